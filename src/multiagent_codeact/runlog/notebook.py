"""Compact HTML cards for Jupyter: `Solution._repr_html_` and `RunRecord._repr_html_` call these.

A notebook renders the markup a library returns inside the user's page, so a card must be inert
whatever a model or a job wrote: every value is escaped, control characters (terminal escape
sequences, bidi overrides) are shown as visible escapes, and a card holds no script, no link,
no `<style>` (which would restyle the whole notebook) and nothing fetched: styles are inline
and the only images are raster plots as data URIs of a type checked against a short list.
"""

from __future__ import annotations

import base64
import html
import json
from typing import TYPE_CHECKING

from ..terminal import printable
from .summary import plural, seconds
from .totals import cost_text

if TYPE_CHECKING:
    from ..domain import Solution
    from .record import RunRecord

__all__ = ["record_card", "solution_card"]

_INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_MAX_IMAGE_BYTES = 2 << 20
_MAX_IMAGES = 2
_COLOURS = {
    "verified": "#1a7f37",
    "disputed": "#9a6700",
    "failed": "#cf222e",
    "finished": "#1a7f37",
    "running": "#0969da",
    "interrupted": "#9a6700",
}
_BOX = (
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;line-height:1.45;"
    "border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;max-width:960px;"
    "color:#1f2328;background:#fff"
)
_PRE = (
    "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;background:#f6f8fa;"
    "padding:8px;border-radius:4px;max-height:24em;overflow:auto;white-space:pre;margin:6px 0"
)
_DIM = "color:#59636e"


def solution_card(solution: Solution) -> str:
    """The card of a Solution: verdict and confidence, task, reasons, code, result, output."""
    return f'<div style="{_BOX}">{_solution_body(solution, with_run=True)}</div>'


def record_card(record: RunRecord) -> str:
    """The card of a stored run: id, status, totals, then its solution (or why there is none)."""
    m, totals = record.manifest, record.totals()
    took = seconds(totals.duration_ms) if record.final else "still running"
    facts = [
        f"started {m.started_at:%Y-%m-%d %H:%M:%S}",
        took,
        plural(totals.model_calls, "model call"),
        cost_text(totals),
    ]
    head = (
        f"<div><b>run {_esc(m.run_id)}</b> {_badge(record.status)} "
        f'<span style="{_DIM}">{_esc(" · ".join(facts))}</span></div>'
    )
    parts = [head]
    if record.solution is not None:
        parts.append(_solution_body(record.solution, with_run=False))
    else:
        prompt = str(m.task.get("prompt") or "")
        parts.append(f"<div>{_esc(_first_lines(prompt, 3))}</div>")
        why = "no solution yet" if not record.final else "no solution was saved"
        parts.append(f'<div style="{_DIM}">{why}</div>')
    if m.error:
        parts.append(_error(m.error))
    parts += [f'<div style="color:#9a6700">{_esc(p)}</div>' for p in record.problems]
    return f'<div style="{_BOX}">{"".join(parts)}</div>'


# -- parts ----------------------------------------------------------------------------------
def _solution_body(s: Solution, *, with_run: bool) -> str:
    verdict = s.verdict.value
    head = [
        f'<b style="color:{_COLOURS.get(verdict, "#1f2328")}">{_esc(verdict.upper())}</b>',
        f"confidence {s.confidence:.2f}",
    ]
    facts = [plural(s.rounds, "round")] if s.rounds else []
    if s.duration_ms:
        facts.append(seconds(s.duration_ms))
    if s.total_cost_usd:
        facts.append(f"${s.total_cost_usd:.4f}")
    if with_run:
        facts.insert(0, f"run {s.run_id}")
    if facts:
        head.append(f'<span style="{_DIM}">{_esc(" · ".join(facts))}</span>')
    out = [f'<div style="display:flex;gap:10px;flex-wrap:wrap">{" ".join(head)}</div>']
    out.append(f"<div>{_esc(_first_lines(s.task.prompt, 3))}</div>")
    reasons = [r for r in s.reasons if r][:3]
    if reasons:
        items = "".join(f"<li>{_esc(_clip(r, 300))}</li>" for r in reasons)
        out.append(f'<ul style="margin:4px 0;padding-left:18px;{_DIM}">{items}</ul>')
    if s.error:
        out.append(_error(s.error))
    if s.code:
        out.append(_pre(_cap_lines(s.code, 200)))
    if s.result is not None:
        shown = _clip(json.dumps(s.result, default=repr), 500)
        out.append(f"<div>result: <code>{_esc(shown)}</code></div>")
    if s.stdout.strip():
        out.append(f'<div style="{_DIM}">output</div>{_pre(_cap_lines(s.stdout, 40))}')
    out.append(_artifacts(s))
    return "".join(out)


def _artifacts(s: Solution) -> str:
    shown = [
        a for a in s.artifacts if a.mime_type in _INLINE_IMAGES and 0 < a.size <= _MAX_IMAGE_BYTES
    ][:_MAX_IMAGES]
    out = [
        f'<img alt="{_esc(a.name)}" style="max-width:360px;max-height:240px;margin:4px 8px 0 0" '
        f'src="data:{a.mime_type};base64,{base64.b64encode(a.data).decode()}">'
        for a in shown
    ]
    inline = {id(a) for a in shown}
    others = [a for a in s.artifacts if id(a) not in inline]
    if others:
        listed = ", ".join(f"{a.name} ({a.mime_type}, {a.size:,} bytes)" for a in others)
        out.append(f'<div style="{_DIM}">files: {_esc(listed)}</div>')
    return "".join(out)


def _badge(status: str) -> str:
    colour = _COLOURS.get(status, "#59636e")
    return (
        f'<span style="color:{colour};border:1px solid {colour};border-radius:10px;'
        f'padding:0 6px;font-size:12px">{_esc(status)}</span>'
    )


def _error(text: str) -> str:
    return f'<div style="color:#cf222e">error: {_esc(_clip(text, 500))}</div>'


def _pre(text: str) -> str:
    return f'<pre style="{_PRE}">{_esc(text)}</pre>'


def _esc(text: str) -> str:
    return html.escape(printable(text), quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cap_lines(text: str, limit: int) -> str:
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= limit:
        return "\n".join(lines)
    return "\n".join([*lines[:limit], f"… {len(lines) - limit} more lines"])


def _first_lines(text: str, n: int) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    more = f" … (+{len(lines) - n} lines)" if len(lines) > n else ""
    return _clip(" ".join(lines[:n]), 400) + more
