"""Small pieces every section of the report uses: escaping, folding, highlighting, numbers.

There is one way to put text on the page, `esc`, for text and attribute values alike. The only
HTML taken in unescaped is Pygments' output (it escapes the code itself) and the markdown
renderer's (see `markdown.py`, which escapes before it marks anything up).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from html import escape
from typing import Any

from pygments import highlight as _pygments  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import PythonLexer  # type: ignore[import-untyped]

from ..fields import number
from ..model import RunTotals

FORMATTER = HtmlFormatter(cssclass="hl")
_BARE = HtmlFormatter(nowrap=True)  # spans only, for code inside a <pre> someone else opened
UNKNOWN_PRICE = (
    "No price is known for this model, so the cost of its calls is unknown (it is not $0). "
    "Give the model a price in the pipeline's configuration to have it counted."
)
PARTLY_UNKNOWN = "{n} of the calls have no known price: the real cost is higher than shown."
KNOWN_ZERO = "Priced, and free: cached replies and zero-priced models cost nothing."


def esc(value: object) -> str:
    """Escaped for text and for attribute values alike; None is empty."""
    return escape("" if value is None else str(value), quote=True)


def pre(text: object, cls: str) -> str:
    return f'<pre class="{cls}">{esc(text)}</pre>'


def error(err: Any) -> str:
    """An ExecError-shaped dict, or text, in red; nothing when there is none."""
    if isinstance(err, dict):
        err = f"{err.get('type')}: {err.get('message')}"
    return f'<span class="error">{esc(err)}</span>' if err else ""


def highlight(code: str) -> str:
    """Python code in its own scrolling box, coloured by Pygments (which escapes it)."""
    return str(_pygments(code, PythonLexer(), FORMATTER))


def highlight_spans(code: str) -> str:
    """Python code as coloured spans only, for a <pre> the caller writes."""
    return str(_pygments(code, PythonLexer(), _BARE))


def details(summary: str, inner: str) -> str:
    """Long content folded away behind a one-line summary (plain text, escaped here)."""
    return f"<details><summary>{esc(summary)}</summary>{inner}</details>"


def badge(verdict: str | None, label: str | None = None) -> str:
    return f'<span class="badge v-{vclass(verdict)}">{esc(label or verdict or "none")}</span>'


def vclass(verdict: str | None) -> str:
    """The colour class of a verdict; anything unexpected is grey."""
    return verdict if verdict in {"verified", "disputed", "failed"} else "none"


def scroll(table_html: str) -> str:
    """A table in a box of its own that scrolls sideways, so a wide one never widens the page."""
    return f'<div class="scroll">{table_html}</div>'


def agent(name: str | None) -> str:
    """An agent's name as a chip, its colour fixed by the name so it is the same everywhere."""
    if not name:
        return ""
    return f'<span class="agent" style="--h:{hue(name)}">{esc(name)}</span>'


def hue(name: str) -> int:
    return zlib.crc32(name.encode()) % 360


num = number  # the sections read event numbers with it


def str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def fraction(value: Any) -> tuple[int, int]:
    """'3/4' as (3, 4); (0, 0) for anything else."""
    try:
        a, b = str(value).split("/")
        return int(a), int(b)
    except ValueError:
        return 0, 0


def tokens(prompt: Any, completion: Any) -> str:
    p, c = num(prompt), num(completion)
    if p is None and c is None:
        return ""
    return f"{int(p or 0):,} + {int(c or 0):,} tokens"


def gist(text: str, limit: int) -> str:
    """The start of `text` on one line, for summaries; the full text sits behind a <details>."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def call_cost(data: Mapping[str, Any]) -> float | None:
    """A model_call event's cost, or None when nobody knows it: the event then says
    `price_known: false` and carries a cost of 0, which must not be shown as free. A cached
    reply is free whatever the price. Events from before `price_known` are taken as priced."""
    if data.get("price_known") is False and not data.get("cached"):
        return None
    return num(data.get("cost_usd")) or 0.0


def cost(usd: float | None) -> str:
    """A cost as HTML: "unknown" (with a title saying why) is never confused with $0."""
    if usd is None:
        return f'<span class="unknown" title="{esc(UNKNOWN_PRICE)}">unknown</span>'
    if usd == 0:
        return f'<span title="{esc(KNOWN_ZERO)}">$0.00</span>'
    return "&lt;$0.0001" if usd < 0.0001 else f"${usd:.4f}"


def summed_cost(known_usd: float, unknown_calls: int, calls: int) -> str:
    """The cost of several calls as HTML, saying so when some of them had no known price."""
    if unknown_calls == 0:
        return cost(known_usd)
    if unknown_calls >= calls or known_usd == 0:
        return cost(None)
    title = esc(PARTLY_UNKNOWN.format(n=unknown_calls))
    return f'{cost(known_usd)} <span class="unknown" title="{title}">+ unknown</span>'


def total_cost(totals: RunTotals) -> str:
    return summed_cost(totals.cost_usd, totals.unpriced_calls, totals.model_calls)


def duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s" if ms < 120_000 else f"{ms / 60_000:.1f} min"


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"
