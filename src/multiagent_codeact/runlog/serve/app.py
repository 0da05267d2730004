"""The viewer as a Starlette app over a RunStore: every route reads, none writes.

    GET /                      the run list (filters: q, status, verdict, since, until; page)
    GET /api/runs              the same selection as JSON
    GET /runs/{id}             a run: its report in a frame, and a live feed while it runs
    GET /runs/{id}/report      the run's HTML report (`runs export --format html`), as it is now
    GET /runs/{id}/events      its events as server-sent events (see `live`)
    GET /static/viewer.{css,js}

A run is named as on the command line: its id, a unique start of it, or `latest`; anything
else is redirected to the full id. A name is checked against the store's run-id pattern before
the store sees it, so `..`, slashes or NUL bytes never reach a path. Hosts other than the ones
the server was bound for are refused (DNS rebinding: a web page elsewhere cannot read the runs
through a name that resolves to 127.0.0.1). Page routes are plain functions, which Starlette
runs in its thread pool: reading folders and rendering must not stall the live streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from ...errors import RunNotFoundError
from ..eventlog import EVENTS_FILE
from ..export import to_html
from ..record import RunRecord
from ..store import RUN_ID, RunStore
from .assets import CSS, JS
from .hosts import LOOPBACK_HOSTS
from .listing import ListQuery, QueryError, select
from .live import LiveOptions, event_stream, parse_offset
from .pages import error_page, list_page, run_page, run_url

__all__ = ["create_app"]

LATEST = "latest"

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
# The report's own policy (it has no script), plus: only our run page may frame it.
_REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


def create_app(
    store: RunStore,
    *,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    live: LiveOptions | None = None,
) -> Starlette:
    """The viewer of `store`. `allowed_hosts` are the Host names it answers to ("*": any)."""
    views = _Views(store, live or LiveOptions())
    routes = [
        Route("/", views.runs, methods=["GET"]),
        Route("/api/runs", views.api_runs, methods=["GET"]),
        Route("/runs/{run_id}", views.run, methods=["GET"]),
        Route("/runs/{run_id}/report", views.report, methods=["GET"]),
        Route("/runs/{run_id}/events", views.events, methods=["GET"]),
        Route("/static/viewer.css", _static(CSS, "text/css"), methods=["GET"]),
        Route("/static/viewer.js", _static(JS, "text/javascript"), methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))],
        exception_handlers={HTTPException: _http_error},
    )


class _Views:
    def __init__(self, store: RunStore, live: LiveOptions) -> None:
        self.store = store
        self.live = live

    def runs(self, request: Request) -> Response:
        try:
            query = ListQuery.parse(request.query_params)
        except QueryError as exc:
            return _html(error_page(400, str(exc)), 400)
        selected = select(self.store.list(status=query.status, verdict=query.verdict), query)
        return _html(list_page(query, selected, self.store.root))

    def api_runs(self, request: Request) -> Response:
        try:
            query = ListQuery.parse(request.query_params)
        except QueryError as exc:
            return JSONResponse({"error": str(exc)}, 400, headers=_COMMON)
        selected = select(self.store.list(status=query.status, verdict=query.verdict), query)
        body: dict[str, Any] = {
            "total": selected.total,
            "page": selected.page,
            "pages": selected.pages,
            "runs": [r.model_dump(mode="json") for r in selected.runs],
        }
        return JSONResponse(body, headers=_COMMON)

    def run(self, request: Request) -> Response:
        record = self._record(request, "")
        if isinstance(record, Response):
            return record
        return _html(run_page(record))

    def report(self, request: Request) -> Response:
        record = self._record(request, "/report")
        if isinstance(record, Response):
            return record
        page = to_html(record, list(record.events()))
        return HTMLResponse(page, headers={**_COMMON, "Content-Security-Policy": _REPORT_CSP})

    async def events(self, request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        record = await run_in_threadpool(self._record, request, "/events")
        if isinstance(record, Response):
            return record
        path = record.path / EVENTS_FILE
        size = path.stat().st_size if path.exists() else 0
        resume = request.headers.get("last-event-id") or request.query_params.get("from")
        stream = event_stream(record.path, parse_offset(resume, size), self.live)
        headers = {**_COMMON, "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    def _record(self, request: Request, tail: str) -> RunRecord | Response:
        """The run the path names, a redirect to its full id, or a 404 page."""
        name = str(request.path_params["run_id"])
        if name != LATEST and not RUN_ID.fullmatch(name):
            raise HTTPException(404, f"{name!r} is not a run id")
        try:
            if name == LATEST:
                newest = self.store.list(limit=1)
                if not newest:
                    raise RunNotFoundError(f"no runs in {self.store.root} yet")
                full = newest[0].run_id
            else:
                full = self.store.resolve(name)
            if full != name:
                target = run_url(full, tail)
                if request.url.query:
                    target += f"?{request.url.query}"
                return RedirectResponse(target, 307, headers=_COMMON)
            return self.store.get(full)
        except RunNotFoundError as exc:
            raise HTTPException(404, str(exc)) from None


def _html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status, headers={**_COMMON, "Content-Security-Policy": _PAGE_CSP})


def _static(text: str, media_type: str) -> Any:
    def endpoint(request: Request) -> Response:
        headers = {**_COMMON, "Cache-Control": "max-age=300"}
        return PlainTextResponse(text, media_type=f"{media_type}; charset=utf-8", headers=headers)

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        message = "this viewer is read-only: only GET (and HEAD) are answered"
        response = _html(error_page(405, message), 405)
        response.headers["Allow"] = "GET, HEAD"
        return response
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=_COMMON)
    return _html(error_page(exc.status_code, str(exc.detail)), exc.status_code)
