"""The timeline: a waterfall of calls and sandbox runs, then every event in order, by round,
with a filter by agent.

The filter needs no script: it is a row of radio buttons, and the stylesheet hides the rows of
every other agent while one is checked (`#tl-f2:checked ~ .tl-body .ev:not(.ag-2)`). "All" is
checked in the markup, so a browser that applies no style, or a reader who never touches the
filter, sees every row; the page's Content-Security-Policy can go on forbidding all script.
"""

from __future__ import annotations

from ...events import Event
from .describe import MORE, describe
from .parts import agent, details, esc
from .rounds import segment_labels
from .run import Run
from .waterfall import waterfall

__all__ = ["AgentKeys", "filter_css", "timeline_section"]

_NOBODY = "pipeline"  # events no agent emitted: run started, run finished


class AgentKeys:
    """Each agent of a run numbered in order of first appearance, for CSS classes that model
    text never reaches (an agent's name could hold anything)."""

    def __init__(self, events: list[Event]) -> None:
        self.names: list[str] = []
        for e in events:
            name = e.agent or _NOBODY
            if name not in self.names:
                self.names.append(name)

    def __call__(self, name: str | None) -> str:
        return f"ag-{self.names.index(name or _NOBODY)}" if (name or _NOBODY) in self else ""

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __len__(self) -> int:
        return len(self.names)


def filter_css(keys: AgentKeys) -> str:
    """The rules that make the filter work: one pair per agent, none when there is one agent."""
    if len(keys) < 2:
        return ""
    rules = [
        '#tl-all:checked ~ .tl-filter label[for="tl-all"] { background:var(--fg); color:#fff; }',
        '#tl-all:focus-visible ~ .tl-filter label[for="tl-all"] { outline:2px solid var(--fg); }',
    ]
    for i in range(len(keys)):
        rules += [
            f"#tl-f{i}:checked ~ .tl-body .ev:not(.ag-{i}) {{ display:none; }}",
            f'#tl-f{i}:checked ~ .tl-filter label[for="tl-f{i}"] '
            "{ background:var(--fg); color:#fff; }",
            f'#tl-f{i}:focus-visible ~ .tl-filter label[for="tl-f{i}"] '
            "{ outline:2px solid var(--fg); }",
        ]
    return "\n".join(rules)


def timeline_section(run: Run, keys: AgentKeys) -> str:
    out = ['<section id="timeline" class="card"><h2>Timeline</h2>']
    if not run.events:
        out.append('<p class="muted">No events were recorded.</p></section>')
        return "\n".join(out)
    if len(keys) > 1:
        out.append(_filter(run, keys))
    out.append('<div class="tl-body">')
    out.append(f'<h3 id="waterfall">Waterfall</h3>{waterfall(run, keys)}')
    out.append(f"<h3>Events</h3>{_events(run, keys)}")
    out.append("</div></section>")
    return "\n".join(out)


def _filter(run: Run, keys: AgentKeys) -> str:
    counts = dict.fromkeys(keys.names, 0)
    for e in run.events:
        counts[e.agent or _NOBODY] += 1
    radios = ['<input type="radio" name="tl-agent" id="tl-all" class="tl-radio" checked>']
    labels = [f'<label for="tl-all">all ({len(run.events)})</label>']
    for i, name in enumerate(keys.names):
        radios.append(f'<input type="radio" name="tl-agent" id="tl-f{i}" class="tl-radio">')
        labels.append(f'<label for="tl-f{i}">{esc(name)} ({counts[name]})</label>')
    return (
        "".join(radios)
        + f'<fieldset class="tl-filter"><legend>Show</legend>{"".join(labels)}</fieldset>'
    )


def _events(run: Run, keys: AgentKeys) -> str:
    """Every event in order, under a heading for each round (what led to each verdict)."""
    labels = segment_labels(run.events)
    out = [
        '<table class="timeline"><colgroup><col class="c-t"><col class="c-a"><col class="c-k">'
        "<col></colgroup><tbody>"
    ]
    segment, opened = 0, False
    for e in run.events:
        if not opened and e.kind != "run_started":
            label = labels[segment] if segment < len(labels) else "After verification"
            out.append(f'<tr class="round"><th colspan="4">{esc(label)}</th></tr>')
            opened = True
        summary, more = describe(e)
        fold = details(MORE.get(e.kind, "show"), more) if more else ""
        out.append(
            f'<tr class="ev {keys(e.agent)} k-{e.kind}"><td class="t">{run.offset(e)}</td>'
            f'<td class="who">{agent(e.agent)}</td>'
            f'<td class="k"><span class="kind">{e.kind}</span></td><td>{summary}{fold}</td></tr>'
        )
        if e.kind == "verdict":
            segment, opened = segment + 1, False
    out.append("</tbody></table>")
    return "".join(out)
