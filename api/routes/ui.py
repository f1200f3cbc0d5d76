"""Server-rendered review pages: login, queue, a record with its candidates side by side.

Pages are plain HTML with one small stylesheet and one small script (keyboard
shortcuts only), so they work on slow links and without JavaScript. They use
the same dependencies (login, agency scoping, consent) and the same views
(redaction) as the JSON API, and write the same audit entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from kinlink.api.deps import (
    SESSION_COOKIE,
    AnonymousAuditDep,
    AnyRole,
    AuditDep,
    CurrentUser,
    IdPath,
    MatcherDep,
    OwnRecord,
    Principal,
    Reviewer,
    SessionDep,
    SettingsDep,
    VisibleCandidate,
    client_ip,
)
from kinlink.api.errors import ApiError, not_found
from kinlink.api.i18n import LANGUAGES, pick, translations
from kinlink.api.routes.auth import login_user, set_session_cookie
from kinlink.api.routes.notifications import (
    mark_notifications_read_audited,
    mark_one_read_or_404,
    notification_out,
)
from kinlink.api.routes.queue import display_name
from kinlink.api.schemas import CandidateOut, Outcome
from kinlink.api.services import record_decision
from kinlink.api.sharing import BANDS, band_for
from kinlink.api.sweeps import run_out, sweep_runs
from kinlink.api.views import Viewer
from kinlink.phonetics import romanize
from kinlink.store.decisions import (
    agency_notifications,
    pending_queue,
    unread_count,
)
from kinlink.store.schema import utcnow
from kinlink.store.sweep_schema import SweepRun

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
LANG_COOKIE = "kinlink_lang"
PAGE = 25

#: The side-by-side rows: label, the fields shown, the engine comparison that colours the row.
ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Name as written", ("name", "name_first", "name_middle", "name_last"), "name"),
    ("Name romanised", ("_romanised",), "name"),
    ("Other names", ("name_nickname", "name_other"), "name"),
    ("Date of birth / age", ("date_of_birth", "age", "estimated"), "birth"),
    ("Sex", ("sex",), "sex"),
    ("Place of origin", ("location_origin",), "place"),
    ("Place of separation", ("location_separation",), "place"),
    ("Current location", ("location_current",), "place"),
    ("Date of separation", ("date_of_separation",), "separation_date"),
    ("Mother", ("mother_name",), "mother"),
    ("Father", ("father_name",), "father"),
    ("Caregiver", ("caregiver_name",), "other_relative"),
    ("Inquirer", ("inquirer_name", "inquirer_relation"), "other_relative"),
    ("Nationality", ("nationality",), "nationality"),
    ("Identity numbers", ("unhcr_individual_no", "icrc_ref_no", "national_id_no"), "identifier"),
    ("Telephone", ("telephone", "inquirer_telephone"), "telephone"),
)


def _language(request: Request) -> Any:
    return pick(
        request.query_params.get("lang") or request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _language(request)
    trans = translations(lang.code)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "_": trans.gettext,
            "lang": lang,
            "languages": LANGUAGES.values(),
            "path": request.url.path,
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang.code, max_age=365 * 86400, samesite="lax")
    return response


def _value(data: dict[str, Any], fields: tuple[str, ...]) -> str:
    if fields == ("_romanised",):
        name = data.get("name") or " ".join(
            str(data[k]) for k in ("name_first", "name_middle", "name_last") if data.get(k)
        )
        if not name:
            return ""
        latin = romanize(name)
        return latin if latin != name else ""
    parts = []
    for field in fields:
        value = data.get(field)
        if value is None or value == "":
            continue
        if field == "estimated":
            parts.append("~" if value else "")
        elif field == "age":
            parts.append(f"{value:g}" if isinstance(value, float) else str(value))
        else:
            parts.append(str(value))
    return " ".join(p for p in parts if p)


def side_by_side(candidate: CandidateOut) -> list[dict[str, Any]]:
    """Aligned rows of both records, each with the agreement of its comparison."""
    levels = {c.comparison: c for c in candidate.explanation}
    rows = []
    for label, fields, comparison in ROWS:
        this = _value(candidate.this.data, fields)
        other = _value(candidate.other.data, fields)
        if not this and not other:
            continue
        contribution = levels.get(comparison)
        rows.append(
            {
                "label": label,
                "this": this,
                "other": other,
                "agreement": contribution.agreement if contribution else "missing",
                "level": contribution.level if contribution else "",
            }
        )
    return rows


def weight_bars(candidate: CandidateOut) -> list[dict[str, Any]]:
    """The explanation as a bar chart: width in 5% steps (CSS classes, no inline styles)."""
    biggest = max((abs(c.total) for c in candidate.explanation), default=0.0) or 1.0
    return [
        {
            "comparison": c.comparison,
            "level": c.level,
            "total": c.total,
            "sign": "pos" if c.total >= 0 else "neg",
            "width": round(abs(c.total) / biggest * 20) * 5,
            "agreement": c.agreement,
        }
        for c in candidate.explanation
    ]


@router.get("/", response_class=HTMLResponse)
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/queue") -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next), error=None)


def _safe_next(target: str) -> str:
    # Only local paths: a crafted link must not bounce a fresh login elsewhere.
    return target if target.startswith("/") and not target.startswith("//") else "/queue"


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    audit: AnonymousAuditDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/queue",
) -> Response:
    try:
        new = login_user(session, settings, username, password, client_ip(request), audit)
    except ApiError as err:
        message = (
            "Too many failed attempts; wait and try again."
            if err.status == 429
            else "Wrong username or password."
        )
        return render(
            request, "login.html", status=err.status, next=_safe_next(next), error=message
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, new, settings)
    return response


@router.post("/logout")
def logout_submit(principal: CurrentUser, session: SessionDep, audit: AuditDep) -> Response:
    if principal.login is not None:
        principal.login.ended_at = utcnow()
        session.commit()
    audit("logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    kind: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    kind = kind if kind in ("link", "duplicate") else None
    rows, total = pending_queue(
        session, principal.agency, kind=kind, limit=PAGE, offset=(page - 1) * PAGE
    )
    audit("queue.view", [r.record for r in rows], kind=kind, offset=(page - 1) * PAGE)
    items = [
        {
            "record_id": r.record.record_id,
            "url": f"/records/{quote(r.record.record_id, safe='')}",
            "record_type": r.record.record_type,
            "name": display_name(r.record) or "",
            "probability": r.best_probability,
            "band": _band(r.best_probability),
            "pending": r.pending,
        }
        for r in rows
    ]
    return render(
        request,
        "queue.html",
        **chrome(principal, session),
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        kind=kind,
        bands=BANDS,
    )


def _band(probability: float) -> str:
    return band_for(probability).code


def _csrf(principal: Any) -> str:
    return principal.login.csrf_token if principal.login is not None else ""


def chrome(principal: Principal, session: Session) -> dict[str, Any]:
    """What base.html needs on every page: who is logged in, CSRF token, unread badge."""
    reviewer = principal.role in ("caseworker", "supervisor")
    return {
        "user": principal.user,
        "csrf": _csrf(principal),
        "reviewer": reviewer,
        "unread": unread_count(session, principal.agency) if reviewer else 0,
    }


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(
    request: Request,
    record: OwnRecord,
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    matcher: MatcherDep,
    c: int | None = None,
) -> HTMLResponse:
    viewer = Viewer(principal, session, matcher.explain)
    out = viewer.record(record)
    candidates = viewer.candidates(record)
    current = next((x for x in candidates if x.id == c), candidates[0] if candidates else None)
    if current is None and c is not None:
        # A decided (e.g. rejected) pair can still be opened by its id from the queue.
        current = next(
            (x for x in viewer.candidates(record, include_rejected=True) if x.id == c), None
        )
    shown = [record.record_id] + (
        [f"{current.other.agency}/{current.other.record_id}"] if current else []
    )
    audit("record.view", [f"{record.agency}/{r}" if i == 0 else r for i, r in enumerate(shown)])
    if candidates:
        audit(
            "candidates.view",
            [record, *[f"{x.other.agency}/{x.other.record_id}" for x in candidates]],
            candidates=[x.id for x in candidates],
        )
    return render(
        request,
        "record.html",
        **chrome(principal, session),
        record=out,
        name=display_name(record) or record.record_id,
        candidates=candidates,
        current=current,
        rows=side_by_side(current) if current else [],
        bars=weight_bars(current) if current else [],
        quote=quote,
    )


@router.post("/candidates/{candidate_id}/decide")
def decide_submit(
    view: VisibleCandidate,
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    outcome: Annotated[Outcome, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form(ge=0)] = None,
) -> Response:
    decision = record_decision(session, view, principal, outcome, note, expected_version, audit)
    c = view.candidate
    target = f"/records/{quote(view.this.record_id, safe='')}?c={c.id}&saved={decision.version}"
    return RedirectResponse(target, status_code=303)


# -- notifications ---------------------------------------------------------------------------

#: The headline of each kind of notification (the stored message is English detail).
NOTIFICATION_KINDS = {
    "new_candidates": "New likely matches",
    "match_confirmed": "Match confirmed by another agency",
}


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request,
    principal: Reviewer,
    session: SessionDep,
    audit: AuditDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The agency's notifications, unread first, each linking to the record it is about."""
    rows, total = agency_notifications(
        session, principal.agency, include_read=True, limit=PAGE, offset=(page - 1) * PAGE
    )
    shown = notification_out(session, principal, rows)
    audit(
        "notifications.view",
        [f"{principal.agency}/{n.record_id}" for n in shown if n.record_id],
        notifications=[n.id for n in shown],
        offset=(page - 1) * PAGE,
    )
    items = [
        {
            "id": n.id,
            "title": NOTIFICATION_KINDS.get(n.kind, n.kind),
            "message": n.message,
            "created_at": n.created_at,
            "record_id": n.record_id,
            "url": f"/records/{quote(n.record_id, safe='')}" if n.record_id else None,
            "read": n.read_at is not None,
        }
        for n in shown
    ]
    return render(
        request,
        "notifications.html",
        **chrome(principal, session),
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
    )


@router.post("/notifications/read")
def notifications_read_all(principal: Reviewer, session: SessionDep, audit: AuditDep) -> Response:
    mark_notifications_read_audited(session, audit, principal.agency)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read")
def notification_read(
    notification_id: IdPath, principal: Reviewer, session: SessionDep, audit: AuditDep
) -> Response:
    mark_one_read_or_404(session, audit, principal.agency, notification_id)
    return RedirectResponse("/notifications", status_code=303)


# -- sweep reports ---------------------------------------------------------------------------


@router.get("/sweeps", response_class=HTMLResponse)
def sweeps_page(
    request: Request,
    principal: AnyRole,
    session: SessionDep,
    audit: AuditDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Sweep runs with their counts (a caseworker sees their own agency's counts only)."""
    rows, total = sweep_runs(session, limit=PAGE, offset=(page - 1) * PAGE)
    audit("sweeps.view", runs=[r.id for r in rows], offset=(page - 1) * PAGE)
    return render(
        request,
        "sweeps.html",
        **chrome(principal, session),
        runs=[run_out(r, principal) for r in rows],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
    )


#: Rows of the run's totals table: label, field of SweepTotals.
SWEEP_TOTALS: tuple[tuple[str, str], ...] = (
    ("Records stored", "stored_records"),
    ("New or changed records", "new_records"),
    ("New or changed cases", "new_cases"),
    ("New or changed tracing requests", "new_tracing_requests"),
    ("Pairs compared", "pairs_compared"),
    ("Pairs kept", "pairs_kept"),
    ("New pairs to review", "new_pending_pairs"),
    ("New tracing links to review", "new_pending_links"),
    ("New duplicates to review", "new_pending_duplicates"),
    ("Rejected pairs not raised again", "kept_not_match"),
    ("Confirmed pairs not raised again", "kept_match"),
    ("Rejected pairs reopened by a change", "reopened"),
    ("Clusters", "clusters"),
    ("Records in clusters", "records_in_clusters"),
    ("New clusters", "clusters_created"),
    ("Changed clusters", "clusters_changed"),
    ("Retired clusters", "clusters_retired"),
    ("Notifications sent", "notifications"),
)


@router.get("/sweeps/{run_id}", response_class=HTMLResponse)
def sweep_page(
    request: Request, run_id: IdPath, principal: AnyRole, session: SessionDep, audit: AuditDep
) -> HTMLResponse:
    run = session.get(SweepRun, run_id)
    if run is None:
        raise not_found("sweep run")
    audit("sweep.view", run=run.id)
    out = run_out(run, principal, detail=True)
    totals = (
        [(label, getattr(out.totals, field)) for label, field in SWEEP_TOTALS]
        if out.totals is not None
        else []
    )
    return render(request, "sweep.html", **chrome(principal, session), run=out, totals=totals)
