"""The viewer's own pages: the run list, the frame around a run's report, and error pages.

Every value that came from a run (task text, ids, errors) is escaped here, and control
characters are shown as escapes (`terminal.printable`), so a hostile task or job output is
text on the page, never markup. The pages carry no inline script or style: the one script and
the stylesheet come from /static/, which the Content-Security-Policy allows and nothing else.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from ...terminal import printable
from ..model import RunSummary
from ..record import RunRecord
from ..summary import dollars, seconds
from .listing import ListQuery, RunPage

__all__ = ["error_page", "list_page", "run_page"]

_STATUSES = ("running", "finished", "failed", "interrupted")
_VERDICTS = ("verified", "disputed", "failed")


def esc(value: object) -> str:
    return html.escape(printable(str(value)), quote=True)


def run_url(run_id: str, tail: str = "") -> str:
    return f"/runs/{quote(run_id, safe='')}{tail}"


def list_page(query: ListQuery, page: RunPage, root: Path) -> str:
    """The run list: the filter form, one table row per run, links to the other pages."""
    rows = "\n".join(_row(r) for r in page.runs)
    if page.runs:
        table = (
            '<div class="table-wrap"><table class="runs"><thead><tr><th>run</th><th>status</th>'
            "<th>verdict</th><th>conf</th><th>calls</th><th>cost</th><th>started (UTC)</th>"
            f"<th>time</th><th>task</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table></div>"
        )
        last = page.first + len(page.runs) - 1
        count = f"runs {page.first}–{last} of {page.total}"
    else:
        table = f'<p class="empty">{_nothing(query, page)}</p>'
        count = f"{page.total} runs"
    body = (
        f"{_filters(query)}\n"
        f'<p class="count" id="count">{esc(count)} · {esc(root)}</p>\n'
        f"{table}\n{_pager(query, page)}"
    )
    return _layout("runs", f'<main class="list">\n{body}\n</main>', heading="Runs")


def run_page(record: RunRecord) -> str:
    """A run: a bar with its status, the live feed while it runs, and its report in a frame."""
    m = record.manifest
    prompt = str(m.task.get("prompt") or "")
    gist = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
    verdict = ""
    if m.verdict:
        conf = "" if m.confidence is None else f" {m.confidence:.2f}"
        verdict = f'<span class="badge verdict-{esc(m.verdict)}">{esc(m.verdict)}{conf}</span>'
    live = ""
    attrs = ""
    if record.status == "running":
        attrs = f' data-live="{esc(run_url(record.run_id, "/events"))}"'
        live = (
            '<details id="live" open><summary>live events · <span id="feed-count">0 events'
            '</span> · <span id="live-state">connecting…</span></summary>'
            '<ol id="feed"></ol></details>'
        )
    bar = (
        f'<span class="badge status-{esc(record.status)}" id="status">{esc(record.status)}'
        f"</span>{verdict}<span>{esc(_clip(gist, 100))}</span>"
    )
    report = esc(run_url(record.run_id, "/report"))
    body = (
        f'<div id="run"{attrs}>{live}</div>\n'
        f'<iframe id="report" src="{report}" title="run report" '
        'sandbox="allow-same-origin"></iframe>'
    )
    return _layout(
        f"run {record.run_id}", body, heading=f"run {record.run_id}", extra=bar, page="run"
    )


def error_page(status: int, message: str) -> str:
    title = {400: "bad request", 404: "not found", 405: "read-only"}.get(status, "error")
    body = f'<main class="list"><p class="problem" id="problem">{esc(message)}</p></main>'
    return _layout(title, body, heading=title.capitalize())


# -- parts ----------------------------------------------------------------------------------
def _layout(title: str, body: str, *, heading: str, extra: str = "", page: str = "list") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)} · mcodeact</title>\n"
        '<link rel="stylesheet" href="/static/viewer.css">\n'
        '<script src="/static/viewer.js" defer></script>\n</head>\n'
        f'<body class="page-{page}">\n<header class="bar"><a class="home" href="/">mcodeact runs'
        f"</a><h1>{esc(heading)}</h1>{extra}</header>\n{body}\n</body>\n</html>\n"
    )


def _filters(query: ListQuery) -> str:
    def options(name: str, values: tuple[str, ...], chosen: str | None) -> str:
        opts = [f'<option value="">any {name}</option>']
        for v in values:
            sel = " selected" if v == chosen else ""
            opts.append(f'<option value="{v}"{sel}>{v}</option>')
        return f'<label>{name}<select name="{name}">{"".join(opts)}</select></label>'

    def day(name: str, value: object) -> str:
        shown = esc(value) if value else ""
        return f'<label>{name}<input type="date" name="{name}" value="{shown}"></label>'

    return (
        '<form class="filters" method="get" action="/">'
        '<label>task or id<input type="search" name="q" maxlength="200" '
        f'value="{esc(query.q)}" placeholder="text in the task"></label>'
        f"{options('status', _STATUSES, query.status)}"
        f"{options('verdict', _VERDICTS, query.verdict)}"
        f"{day('since', query.since)}{day('until', query.until)}"
        '<button type="submit">filter</button> <a href="/">clear</a></form>'
    )


def _row(r: RunSummary) -> str:
    t = r.totals
    cost = "?" if t.unpriced_calls == t.model_calls > 0 else dollars(t.cost_usd)
    took = "…" if r.status == "running" else seconds(t.duration_ms)
    conf = "" if r.confidence is None else f"{r.confidence:.2f}"
    verdict = (
        f'<span class="verdict-{esc(r.verdict)}">{esc(r.verdict)}</span>' if r.verdict else "-"
    )
    return (
        f'<tr data-run="{esc(r.run_id)}"><td class="id"><a href="{esc(run_url(r.run_id))}">'
        f"{esc(r.run_id)}</a></td>"
        f'<td><span class="badge status-{esc(r.status)}">{esc(r.status)}</span></td>'
        f'<td>{verdict}</td><td class="num">{conf}</td><td class="num">{t.model_calls}</td>'
        f'<td class="num">{esc(cost)}</td><td class="num">{_when(r.started_at)}</td>'
        f'<td class="num">{esc(took)}</td><td class="task">{esc(r.task)}</td></tr>'
    )


def _pager(query: ListQuery, page: RunPage) -> str:
    if page.pages <= 1:
        return ""
    links = []
    if page.page > 1:
        links.append(f'<a rel="prev" href="{esc(query.link(page=page.page - 1))}">← newer</a>')
    links.append(f"<span>page {page.page} of {page.pages}</span>")
    if page.page < page.pages:
        links.append(f'<a rel="next" href="{esc(query.link(page=page.page + 1))}">older →</a>')
    return f'<nav class="pages">{"".join(links)}</nav>'


def _nothing(query: ListQuery, page: RunPage) -> str:
    if page.total and page.page > page.pages:
        return esc(f"page {page.page} is past the last one ({page.pages})")
    if query.link() != "?":
        return 'no run matches these filters; <a href="/">show all runs</a>'
    return "no runs recorded yet: `mcodeact solve ...` records one here"


def _when(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
