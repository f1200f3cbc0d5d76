"""The caseworkers' review service: JSON API and server-rendered review pages.

Public surface: :func:`create_app` (the FastAPI application) and
:class:`RealtimeMatcher` (real-time candidates from the matching engine).
"""

from kinlink.api.app import create_app
from kinlink.api.matching import RealtimeMatcher

__all__ = ["RealtimeMatcher", "create_app"]
