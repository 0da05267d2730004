"""The model calls: what each agent spent, and every call with its tokens, cost and latency.

A call to a model with no known price has an unknown cost, not a cost of $0: it is shown as
"unknown" (with a title saying why) and sums that include it say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from .parts import agent, call_cost, cost, duration, esc, num, scroll, summed_cost
from .run import Run

__all__ = ["calls_section"]


@dataclass
class _Spent:
    calls: int = 0
    prompt: int = 0
    completion: int = 0
    usd: float = 0.0  # of the calls with a known price
    unpriced: int = 0
    ms: float = 0.0


def calls_section(run: Run) -> str:
    calls = run.of_kind("model_call")
    out = ['<section id="calls" class="card"><h2>Model calls</h2>']
    if not calls:
        out.append('<p class="muted">No model calls were recorded.</p></section>')
        return "\n".join(out)
    rows: list[str] = []
    by_agent: dict[str, _Spent] = {}
    for e in calls:
        d = e.data
        p, c = int(num(d.get("prompt_tokens")) or 0), int(num(d.get("completion_tokens")) or 0)
        usd, ms = call_cost(d), num(d.get("latency_ms")) or 0.0
        spent = by_agent.setdefault(e.agent or "?", _Spent())
        spent.calls += 1
        spent.prompt += p
        spent.completion += c
        spent.ms += ms
        if usd is None:
            spent.unpriced += 1
        else:
            spent.usd += usd
        flags = [
            f for f, on in (("cached", d.get("cached")), ("streamed", d.get("streamed"))) if on
        ]
        if (num(d.get("attempts")) or 0) > 1:
            flags.append(f"{int(num(d.get('attempts')) or 0)} attempts")
        if d.get("finish_reason") not in (None, "stop"):
            flags.append(f"finish: {d.get('finish_reason')}")
        note = esc(" · ".join(flags))
        if d.get("error"):
            note += f' <span class="error">{esc(d.get("error"))}</span>'
        rows.append(
            f'<tr><td class="t">{run.offset(e)}</td><td>{agent(e.agent)}</td>'
            f"<td>{esc(d.get('model'))}</td>"
            f'<td class="n">{p:,}</td><td class="n">{c:,}</td><td class="n">{cost(usd)}</td>'
            f'<td class="n">{duration(ms)}</td>'
            f'<td class="n">{duration(num(d.get("queued_ms")) or 0.0)}</td><td>{note}</td></tr>'
        )
    agents = "".join(
        f'<tr><td>{agent(a)}</td><td class="n">{s.calls}</td><td class="n">{s.prompt:,}</td>'
        f'<td class="n">{s.completion:,}</td>'
        f'<td class="n">{summed_cost(s.usd, s.unpriced, s.calls)}</td>'
        f'<td class="n">{duration(s.ms)}</td></tr>'
        for a, s in by_agent.items()
    )
    out.append(
        "<h3>By agent</h3>"
        + scroll(
            "<table><thead><tr><th>agent</th><th>calls</th><th>prompt</th><th>completion</th>"
            f"<th>cost</th><th>latency</th></tr></thead><tbody>{agents}</tbody></table>"
        )
        + "<h3>Each call</h3>"
        + scroll(
            "<table><thead><tr><th>time</th><th>agent</th><th>model</th><th>prompt</th>"
            "<th>completion</th><th>cost</th><th>latency</th><th>queued</th><th></th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
        )
    )
    out.append("</section>")
    return "\n".join(out)
