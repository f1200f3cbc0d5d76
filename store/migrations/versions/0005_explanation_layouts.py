"""Explanation layouts: the per-model part of the sweep's levels-form explanations.

A sweep stores each pair's explanation as its comparison levels only
(``kinlink.matching.explain.ExplanationLayout.levels``); the labels, level weights
and compared columns of the model that scored it are stored once here, under a hash
of their content, so the review service can expand an explanation after the model
has been replaced.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "explanation_layouts",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("layout", _json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("explanation_layouts")
