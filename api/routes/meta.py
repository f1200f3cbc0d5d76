"""Health and the documented probability bands."""

from __future__ import annotations

from fastapi import APIRouter

from kinlink.api.deps import MatcherDep
from kinlink.api.schemas import BandOut, Health
from kinlink.api.sharing import BANDS

router = APIRouter(tags=["meta"])


@router.get("/healthz", response_model=Health)
def health(matcher: MatcherDep) -> Health:
    return Health(status="ok", matching=matcher.status)


@router.get("/api/v1/bands", response_model=list[BandOut])
def bands() -> list[BandOut]:
    """The fixed probability bands behind the words shown to reviewers."""
    return [BandOut(code=b.code, label=b.label, min_probability=b.min_probability) for b in BANDS]
