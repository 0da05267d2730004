"""The optimizer's report: before and after side by side, and every rewrite turned down."""

from __future__ import annotations

from ...optimize.report import Profile
from ..summary import span, speedup
from .parts import details, duration, esc, highlight, scroll, size
from .run import Run

__all__ = ["optimization_section"]

_OPTIMIZATION_BADGE = {"accepted": "verified", "rejected": "disputed", "failed": "failed"}


def optimization_section(run: Run) -> str:
    """Before and after, side by side, and every rewrite that was turned down and why: the
    evidence that the final code is the verified one or a proven-equivalent faster one."""
    rep = run.optimization
    if rep is None:
        return ""
    status = rep.status.replace("_", " ")
    badge = _OPTIMIZATION_BADGE.get(rep.status, "none")
    out = [
        '<section id="optimization" class="card"><h2>Optimization</h2>',
        f'<p><span class="badge v-{badge}">{esc(status)}</span> {esc(rep.reason)}</p>',
    ]
    stats = [
        ("speedup", speedup(rep.speedup) if rep.speedup is not None else "–"),
        ("time before", span(rep.time_before_s) if rep.time_before_s is not None else "–"),
        ("time after", span(rep.time_after_s) if rep.time_after_s is not None else "–"),
        ("peak memory before", _memory(rep.memory_before_bytes, rep.before)),
        ("peak memory after", _memory(rep.memory_after_bytes, rep.after)),
        ("model calls", str(rep.model_calls)),
        ("took", duration(rep.duration_ms) if rep.duration_ms else "–"),
    ]
    out.append('<dl class="stats">')
    out += [f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in stats]
    out.append(
        '</dl><p class="muted">Times are summed medians of repeated calls on the growing '
        "inputs both versions were timed on.</p>"
    )
    exponents = [p.exponent if p else None for p in (rep.before, rep.after)]
    if any(x is not None for x in exponents):
        shown = ["–" if x is None else f"{x:.2f}" for x in exponents]
        out.append(
            f"<p>Growth exponent (time ~ size<sup>k</sup>; 1 linear, 2 quadratic): "
            f"before <strong>{shown[0]}</strong> · after <strong>{shown[1]}</strong></p>"
        )
    if rep.before and rep.before.timings:
        out.append(details("Time per call by input size", _size_table(rep.before, rep.after)))
    for label, prof in (("before", rep.before), ("after", rep.after)):
        if prof and prof.hot_lines:
            out.append(f"<h3>Hottest lines {label} (one traced call)</h3>{_hot_lines(prof)}")
        notes = ([f"inputs stopped growing: {prof.stopped}"] if prof and prof.stopped else []) + (
            prof.errors if prof else []
        )
        if notes:
            items = "".join(f"<li>{esc(n)}</li>" for n in notes)
            out.append(f'<p class="muted">Profile {label}:</p><ul class="muted">{items}</ul>')
    if rep.rejected:
        rows = []
        for r in rep.rejected:
            times = speedup(r.speedup) if r.speedup is not None else "–"
            rows.append(
                f'<tr><td class="n">{r.attempt}</td><td>{esc(r.kind)}</td><td>{esc(r.reason)}</td>'
                f'<td class="n">{esc(times)}</td></tr>'
            )
            if r.code:
                rows.append(
                    f'<tr class="code-row"><td></td><td colspan="3">'
                    f"{details(f'Rewrite {r.attempt}', highlight(r.code))}</td></tr>"
                )
        out.append(
            f"<h3>Rejected rewrites ({len(rep.rejected)})</h3>"
            + scroll(
                "<table><thead><tr><th>attempt</th><th>kind</th><th>reason</th><th>speedup</th>"
                f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            )
        )
    out.append("</section>")
    return "\n".join(out)


def _memory(n: int | None, prof: Profile | None) -> str:
    if n is None:
        return "–"
    method = prof.memory_method if prof else None
    return size(n) + (f" ({method})" if method else "")


def _size_table(before: Profile, after: Profile | None) -> str:
    later = {t.size: t.median_ns for t in after.timings} if after else {}
    rows = []
    for t in before.timings:
        new = later.get(t.size)
        cells = [span(t.median_ns / 1e9), "–", "–"]
        if new is not None:
            cells[1:] = [span(new / 1e9), speedup(t.median_ns / new) if new else "–"]
        rows.append(
            f'<tr><td class="n">{t.size:,}</td>'
            + "".join(f'<td class="n">{esc(c)}</td>' for c in cells)
            + "</tr>"
        )
    return scroll(
        "<table><thead><tr><th>size</th><th>before</th><th>after</th><th>speedup</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _hot_lines(prof: Profile) -> str:
    rows = "".join(
        f'<tr><td class="n">{h.line}</td><td><code>{esc(h.function)}</code></td>'
        f'<td class="n">{h.hits:,}</td><td><code>{esc(h.source)}</code></td></tr>'
        for h in prof.hot_lines
    )
    return scroll(
        "<table><thead><tr><th>line</th><th>function</th><th>hits</th><th>source</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )
