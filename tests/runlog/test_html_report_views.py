"""The report's views of issue 16: candidates caught wrong in earlier rounds, unknown prices,
markdown in model text, the waterfall, the filter by agent, and a page that fits a phone.

Markup first; then a real headless Chromium measures the layout and works the filter. The
report is loaded, untouched (its Content-Security-Policy forbidding script included), into an
iframe of the width under test: headless Chromium lays a window out at 500 px at least, so a
420 px `--window-size` alone would measure, and photograph, a 500 px page cropped. A probe
script in the harness page, outside the report, reads the frame's layout and clicks its labels.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_html_report import (
    ARTIFACTS,
    RUN_ID,
    T0,
    XSS,
    Dom,
    Log,
    chromium,
    manifest,
    needs_chromium,
    report,
    run_log,
    section,
    solution,
)

from multiagent_codeact.domain import Candidate, Solution, Task, Verdict
from multiagent_codeact.events import Event
from multiagent_codeact.runlog.html import render_html
from multiagent_codeact.runlog.html.markdown import render_markdown
from multiagent_codeact.runlog.model import RunTotals
from multiagent_codeact.verify import (
    CandidateEvidence,
    Cell,
    ClusterEvidence,
    Evidence,
    VerificationReport,
)

PROMPT = "Write dedupe(xs), keeping first occurrences.\n>>> dedupe([3, 1, 3, 2, 1])\n[3, 1, 2]"
GOOD = "def dedupe(xs):\n    return list(dict.fromkeys(xs))\n"
SORTED = "def dedupe(xs):\n    return sorted(set(xs))\n"
REVERSED = "def dedupe(xs):\n    return list(dict.fromkeys(reversed(xs)))[::-1]\n"
FEEDBACK = (
    "- The task's example `dedupe([3, 1, 3, 2, 1])` fails: it expects [3, 1, 2], your code "
    "returns [1, 2, 3]."
)
CALL = {"model": "m", "prompt_tokens": 100, "completion_tokens": 50, "attempts": 1}


def repaired_run() -> list[Event]:
    """Round 1: c2.0 fails the prompt's example, c3.0 is outvoted on an input; both coders are
    told why and repair; round 2 verifies c1.0 with c2.1 and c3.1 agreeing."""
    log = Log()
    log.add("run_started", None, 0, task={"prompt": PROMPT, "entry_point": "dedupe"}, models={})
    for n, code in ((1, GOOD), (2, SORTED), (3, REVERSED)):  # three calls at once
        log.add("model_call", f"coder{n}", 1.3 if n == 1 else 0.01, **CALL, cost_usd=0.001,
                latency_ms=1200.0)  # fmt: skip
        log.add("candidate", f"coder{n}", 0.01, round=0, id=f"c{n}.0", code=code, tests="")
    for cid, status, trusted, cluster in (
        ("c1.0", "ok", "1/1", 0),
        ("c2.0", "rejected", "0/1", None),
        ("c3.0", "ok", "1/1", 1),
    ):
        log.add("execution", "executor", 1.0 if cid == "c1.0" else 0.01, candidate=cid,
                status=status, trusted=trusted, generated="0/0", cluster=cluster,
                load_error=None)  # fmt: skip
    clusters = [
        {"index": 0, "members": ["c1.0"], "tests_passed": 1, "score": 1, "probability": 0.6},
        {"index": 1, "members": ["c3.0"], "tests_passed": 1, "score": 1, "probability": 0.4},
    ]
    counter = {"call": "dedupe([1, 2, 1])", "cluster": 1, "selected_output": "[1, 2]",
               "rival_output": "[2, 1]"}  # fmt: skip
    log.add("verdict", "verifier", 0.01, verdict="disputed", confidence=0.6, selected="c1.0",
            clusters=clusters, counterexamples=[counter], reasons=["rivals disagree"],
            duration_ms=900.0)  # fmt: skip
    log.add("repair", "coder2", 0.01, feedback=FEEDBACK)
    log.add("repair", "coder3", 0.01, feedback="- On `dedupe([1, 2, 1])` your code returns [2, 1]")
    for n in (2, 3):
        log.add("model_call", f"coder{n}", 1.1, **CALL, cost_usd=0.001, latency_ms=1000.0)
        log.add("candidate", f"coder{n}", 0.01, round=1, id=f"c{n}.1", code=GOOD, tests="")
    for cid in ("c1.0", "c2.1", "c3.1"):
        log.add("execution", "executor", 0.5 if cid == "c1.0" else 0.01, candidate=cid,
                status="ok", trusted="1/1", generated="0/0", cluster=0,
                load_error=None)  # fmt: skip
    log.add("verdict", "verifier", 0.01, verdict="verified", confidence=0.95, selected="c1.0",
            clusters=[{**clusters[0], "members": ["c1.0", "c2.1", "c3.1"], "probability": 0.95}],
            counterexamples=[], reasons=["3 independent candidates agree"])  # fmt: skip
    log.add("execution", "executor", 0.3, candidate="c1.0", final=True, exit_code=0, stdout="")
    log.add("run_finished", None, 0.01, verdict="verified", confidence=0.95, duration_ms=4000.0)
    return log.events


def final_report() -> VerificationReport:
    """What the Solution keeps: the last round only, where c2.0 and c3.0 are gone."""
    rows = [
        CandidateEvidence(id=c, status="ok", hard_passed=1, hard_total=1, cluster=0)
        for c in ("c1.0", "c2.1", "c3.1")
    ]
    return VerificationReport(
        selected=Candidate(id="c1.0", code=GOOD),
        verdict=Verdict.VERIFIED,
        confidence=0.95,
        reasons=["3 independent candidates agree"],
        evidence=Evidence(
            candidates=rows,
            clusters=[
                ClusterEvidence(
                    index=0,
                    members=["c1.0", "c2.1", "c3.1"],
                    tests_passed=1,
                    score=1,
                    probability=0.95,
                )
            ],
        ),
    )


def repaired_solution() -> Solution:
    return Solution(
        run_id=RUN_ID,
        task=Task(prompt=PROMPT, entry_point="dedupe"),
        verdict=Verdict.VERIFIED,
        confidence=0.95,
        code=GOOD,
        rounds=2,
        report=final_report(),
    )


def repaired_page() -> str:
    return render_html(
        manifest(task={"prompt": PROMPT}, artifacts=[]),
        repaired_run(),
        repaired_solution(),
        {},
    )


# -- 1. candidates caught wrong in earlier rounds ------------------------------------------------
def test_candidates_caught_wrong_in_an_earlier_round_are_shown_with_the_evidence() -> None:
    html = repaired_page()
    assert "c2.0" not in section(html, "evidence")  # the final report no longer has them
    part = section(html, "rounds")
    dom = Dom(part)
    text = dom.text
    assert "Round 1" in text and "Round 2" in text
    rounds = part.split('<div class="pass">')[1:]
    assert len(rounds) == 2
    first = Dom(rounds[0]).text
    # c2.0: failed the prompt's example, with expected and got, as its coder was told.
    c2 = first[first.index("c2.0") :]
    assert "rejected: fails the task's own examples" in first
    assert "task's examples passed 0/1" in c2
    assert "expects [3, 1, 2], your code returns [1, 2, 3]" in c2
    assert "What coder2 was told" in c2
    assert "return sorted(set(xs))" in c2  # its code, folded away
    # c3.0: outvoted, with the input on which it differs: what it gives against the pick.
    assert "outvoted" in first
    table = rounds[0][rounds[0].index('<table class="counter">') :]
    cells = re.findall(r"<td><code>(.*?)</code></td>", table)
    assert cells[:3] == ["dedupe([1, 2, 1])", "[2, 1]", "[1, 2]"]
    assert "the pick so far (not verified)" in first  # a disputed pick is not "selected"
    second = Dom(rounds[1]).text
    assert "✓ selected" in second and second.count("agrees with the selected") == 2
    assert "from an earlier round" in second  # c1.0 was carried over
    summary = Dom(section(html, "summary")).text
    assert "1 wrong candidate caught by the task's own examples (c2.0)" in summary
    assert "1 outvoted" in summary and "(c3.0)" in summary
    assert '<a href="#rounds">Rounds</a>' in html


def test_the_final_round_shows_expected_and_got_for_failed_examples() -> None:
    rep = final_report()
    failing = CandidateEvidence(
        id="c4.0",
        status="rejected",
        hard_passed=0,
        hard_total=1,
        failures=[
            Cell(
                test="example.1",
                candidate="c4.0",
                outcome="fail",
                expected="[3, 1, 2]",
                actual=f"[1, 2, 3] {XSS}",
            )
        ],
    )
    evidence = rep.evidence.model_copy(update={"candidates": [*rep.evidence.candidates, failing]})
    sol = repaired_solution().model_copy(
        update={"report": rep.model_copy(update={"evidence": evidence})}
    )
    events = repaired_run()
    at = next(i for i, e in enumerate(events) if e.data.get("verdict") == "verified")
    extra = events[at].model_copy(
        update={"data": {"candidate": "c4.0", "status": "rejected", "trusted": "0/1"}}
    )
    events[at:at] = [extra.model_copy(update={"kind": "execution"})]
    events = [e.model_copy(update={"seq": i}) for i, e in enumerate(events)]
    html = render_html(manifest(artifacts=[]), events, sol, {})
    last = section(html, "rounds").split('<div class="pass">')[-1]
    assert ["example.1", "[3, 1, 2]", f"[1, 2, 3] {XSS}"] == [
        Dom(cell).text for cell in re.findall(r"<td><code>(.*?)</code></td>", last)
    ]
    assert "<script" not in last


def test_no_rounds_section_without_a_verification() -> None:
    html = render_html(manifest(artifacts=[]), repaired_run()[:5], None, {})
    assert 'id="rounds"' not in html and "#rounds" not in html


# -- 2. unknown prices -----------------------------------------------------------------------------
def unpriced_log() -> list[Event]:
    log = Log()
    log.add("run_started", None, 0, task={"prompt": "p"}, models={})
    log.add("model_call", "coder1", **CALL, cost_usd=0.0, latency_ms=500.0, price_known=False)
    log.add("model_call", "coder2", **CALL, cost_usd=0.0, latency_ms=500.0, price_known=True)
    log.add("model_call", "coder3", **CALL, cost_usd=0.002, latency_ms=500.0, price_known=True)
    return log.events


def unknown_spans(html: str) -> list[dict[str, str]]:
    return [a for a in Dom(html).find("span") if "unknown" in a.get("class", "").split()]


def test_an_unknown_price_reads_unknown_and_a_real_zero_reads_zero() -> None:
    totals = RunTotals(model_calls=3, cost_usd=0.002, unpriced_calls=1)
    html = render_html(manifest(totals=totals, artifacts=[]), unpriced_log(), None, {})
    calls = section(html, "calls")
    rows = [r for r in calls.split("<tr>") if "coder1" in r]
    assert rows and all("unknown" in Dom(r).text and "$0" not in Dom(r).text for r in rows)
    zero = [r for r in calls.split("<tr>") if "coder2" in r]
    assert zero and all("$0.00" in Dom(r).text and "unknown" not in Dom(r).text for r in zero)
    spans = unknown_spans(calls)
    assert len(spans) == 2 and all("No price is known" in s["title"] for s in spans)
    # The totals: some calls priced, one not, and the page says the real cost is higher.
    summary = section(html, "summary")
    assert "$0.0020 + unknown" in Dom(summary).text
    assert any("1 of the calls have no known price" in s["title"] for s in unknown_spans(summary))
    timeline = Dom(section(html, "timeline")).text
    assert "m · 100 + 50 tokens · unknown · 500 ms" in timeline


def test_a_run_with_no_known_price_has_an_unknown_cost_not_zero() -> None:
    log = Log()
    log.add("run_started", None, 0, task={"prompt": "p"}, models={})
    log.add("model_call", "coder1", **CALL, cost_usd=0.0, latency_ms=500.0, price_known=False)
    html = render_html(manifest(totals=RunTotals(), artifacts=[]), log.events, None, {})
    bar = html[html.index('<header class="bar">') : html.index("</header>")]
    stat = re.search(r"<dt>cost</dt><dd>(.*?)</dd>", html)
    assert stat is not None
    for part in (bar, stat[1]):
        assert "unknown" in Dom(part).text and "$0" not in Dom(part).text
        assert any("No price is known" in s["title"] for s in unknown_spans(part))
    note = "1 model call had no known price and is not counted; the real cost is unknown"
    assert note in Dom(section(html, "summary")).text


# -- 3. markdown in model text ---------------------------------------------------------------------
MARKDOWN = f"""Here is the plan, **in short**:

1. keep a *set* of seen items
2. call `dedupe(xs)` once

```python
def dedupe(xs):
    return list(dict.fromkeys(xs))  # {XSS}
```

See [the docs](https://evil.example/a), <https://evil.example/b>, https://evil.example/c and
![a plot](https://evil.example/x.png). <b onclick="alert(3)">bold?</b> {XSS}

[ref]: https://evil.example/ref
"""


def test_markdown_in_model_messages_is_rendered_and_stays_inert() -> None:
    rep = report()
    events = run_log(rep)
    events.append(events[3].model_copy(update={"seq": len(events), "data": {"content": MARKDOWN}}))
    html = render_html(manifest(), events, solution(rep), ARTIFACTS)
    part = section(html, "timeline")
    md = part[part.rindex('<div class="md">') :]
    assert "<strong>in short</strong>" in md and "<em>set</em>" in md
    assert "<ol>" in md and md.count("<li>") == 2 and "<code>dedupe(xs)</code>" in md
    assert '<div class="hl"><pre>' in md and '<span class="k">def</span>' in md
    dom = Dom(md)
    assert dom.find("a") == [] and dom.find("img") == [] and dom.find("b") == []
    assert dom.find("script") == []
    for _, attrs in dom.tags:
        assert not any(k.startswith("on") or k in ("href", "src") for k in attrs), attrs
    for shown in ("[the docs](https://evil.example/a)", "<https://evil.example/b>",
                  "![a plot](https://evil.example/x.png)", '<b onclick="alert(3)">', XSS,
                  "[ref]: https://evil.example/ref"):  # fmt: skip
        assert shown in dom.text, shown
    # Nothing fetchable or clickable anywhere on the page.
    page = Dom(html)
    assert not any("://" in v for _, attrs in page.tags for v in attrs.values())


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "<javascript:alert(1)>",
        "```\n</pre><script>alert(1)</script>\n```",
        "```python\n</pre><script>alert(1)</script>\n```",
        "`</code><script>alert(1)</script>`",
        "&lt;script&gt; &#60;script&#62;",
        "    <script>indented code</script>",
        "* <i>a</i>\n* **<u>b</u>**",
        "# <h1>head</h1>",
        "> <blockquote onclick=x>",
    ],
)
def test_markdown_never_lets_text_become_markup(text: str) -> None:
    html = render_markdown(text)
    dom = Dom(html)
    allowed = {"div", "p", "pre", "code", "span", "ul", "ol", "li", "em", "strong", "br"}
    allowed |= {"blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}
    assert {tag for tag, _ in dom.tags} <= allowed, dom.tags
    for _, attrs in dom.tags:
        assert set(attrs) <= {"class", "start"}, attrs
    assert "<script" not in html and "javascript:" not in "".join(
        v for _, a in dom.tags for v in a.values()
    )


def test_markdown_keeps_paragraphs_and_line_breaks() -> None:
    html = render_markdown("one\ntwo\n\nthree")
    assert html == '<div class="md"><p>one<br>\ntwo</p>\n<p>three</p>\n</div>'


# -- 4. the waterfall ------------------------------------------------------------------------------
_BAR = re.compile(
    r'<span class="wf-who"><span class="agent" style="--h:\d+">([^<]*)</span></span>'
    r'<div class="wf-track"><span class="wf-bar ([^"]*)" style="left:([\d.]+)%;width:([\d.]+)%'
)


def bar_styles(html: str) -> list[tuple[str, str, float, float]]:
    """(agent, classes, left %, width %) of each waterfall bar, in page order."""
    part = html[html.index('<div class="wf">') : html.index('<p class="wf-legend">')]
    found = [(m[1], m[2], float(m[3]), float(m[4])) for m in _BAR.finditer(part)]
    assert len(found) == part.count('<div class="wf-row'), part
    return found


def test_the_waterfall_places_each_call_and_execution_on_one_time_axis() -> None:
    html = repaired_page()
    assert '<h3 id="waterfall">Waterfall</h3>' in html and '<a href="#waterfall">' in html
    shown = bar_styles(html)
    calls = [b for b in shown if "b-call" in b[1]]
    runs = [b for b in shown if "b-run" in b[1]]
    assert [b[0] for b in calls] == ["coder1", "coder2", "coder3", "coder2", "coder3"]
    assert len(runs) == 3  # two verifications and the final run
    assert {b[0] for b in runs} == {"executor"}
    lefts = [b[2] for b in shown]
    assert lefts == sorted(lefts)  # in start order
    # Widths in proportion to durations, each bar ending when its event was recorded: the
    # first call (1.2 s) at +1.3 s, the first verification (0.9 s, recorded) at its verdict.
    # The final run's start is only estimated (from the event before it): striped.
    events = repaired_run()
    total = events[-1].time - events[0].time
    verdict = next(e for e in events if e.kind == "verdict")
    assert calls[0][3] == pytest.approx(1.2 / total * 100, abs=0.01)
    assert calls[0][2] + calls[0][3] == pytest.approx(1.3 / total * 100, abs=0.01)
    assert runs[0][3] == pytest.approx(0.9 / total * 100, abs=0.01)
    assert runs[0][2] + runs[0][3] == pytest.approx((verdict.time - T0) / total * 100, abs=0.01)
    assert "b-guess" not in runs[0][1] and "b-guess" in runs[-1][1]
    assert calls[1][2] < calls[0][2] + calls[0][3]  # the three first calls overlap


def test_a_call_with_a_recorded_start_is_placed_by_it() -> None:
    log = Log()
    log.add("run_started", None, 0, task={"prompt": "p"}, models={})
    start = datetime.fromtimestamp(T0 + 1.0, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    log.add("model_call", "coder1", 4.0, **CALL, latency_ms=1000.0, started_at=start)
    log.add("model_call", "coder2", 0.0, **CALL, latency_ms=2000.0, error="HTTP 500")
    ((_, _, left1, width1), (_, c2, left2, width2)) = bar_styles(
        render_html(manifest(artifacts=[]), log.events, None, {})
    )
    assert (left1, width1) == (25.0, 25.0)  # started at +1 s, lasted 1 s, in a 4 s run
    assert (left2, width2) == (50.0, 50.0) and "b-error" in c2


# -- 5. the filter by agent ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page() -> str:
    rep = report()
    return render_html(manifest(), run_log(rep), solution(rep), ARTIFACTS)


def test_the_timeline_filters_by_agent_with_no_script(page: str) -> None:
    part = section(page, "timeline")
    dom = Dom(part)
    radios = [a for a in dom.find("input") if a.get("type") == "radio"]
    assert radios[0]["id"] == "tl-all" and "checked" in radios[0]
    assert all("checked" not in r for r in radios[1:])
    labels = {a["for"]: None for a in dom.find("label")}
    assert set(labels) == {r["id"] for r in radios}
    names = re.findall(r'<label for="tl-f(\d+)">([^<]*) \((\d+)\)</label>', part)
    by_name = {name: (int(i), int(n)) for i, name, n in names}
    assert {"pipeline", "user", "coder1", "coder2", "executor", "verifier", "judge"} <= set(by_name)
    rows = re.findall(r'<tr class="ev (ag-\d+) k-', part)
    assert len(rows) == len(run_log(report()))  # every event is a filterable row
    index, count = by_name["coder2"]
    assert rows.count(f"ag-{index}") == count == 4
    assert f"#tl-f{index}:checked ~ .tl-body .ev:not(.ag-{index}) {{ display:none; }}" in page
    assert "<script" not in page.lower()


def test_agent_names_never_reach_the_stylesheet() -> None:
    log = Log()
    log.add("run_started", None, 0, task={"prompt": "p"}, models={})
    log.add("message", '"]{}</style><script>alert(1)</script>', content="hi")
    log.add("message", "coder1", content="hi")
    html = render_html(manifest(artifacts=[]), log.events, None, {})
    style = html[html.index("<style>") : html.index("</style>")]
    assert "alert" not in style and "<script" not in html
    assert "&lt;/style&gt;&lt;script&gt;" in html


# -- 6. a phone-sized screen, in Chromium ----------------------------------------------------------
LONG = "x" * 300
WIDE_CODE = f"def add(a, b):\n    return a + b  # {'long comment ' * 30}\n"


def crowded_page() -> str:
    """The sample run with the longest things a run can hold: a long unbroken word in the task,
    long code lines in the answer and in a message, a long output line."""
    rep = report()
    sol = solution(rep).model_copy(
        update={
            "code": WIDE_CODE,
            "stdout": f"printed {LONG}",
            "task": Task(prompt=f"Write add(a, b). {LONG}", entry_point="add"),
        }
    )
    events = run_log(rep)
    fence = f"```python\n{WIDE_CODE}```\n\nand a long word {LONG}"
    events.append(events[3].model_copy(update={"seq": len(events), "data": {"content": fence}}))
    prompt = {"prompt": f"Write add(a, b). {LONG}", "entry_point": "add"}
    return render_html(manifest(task=prompt), events, sol, ARTIFACTS)


PROBE = """
window.addEventListener('load', () => {
  const win = document.getElementById('report').contentWindow, doc = win.document;
  const visible = sel => [...doc.querySelectorAll(sel)].filter(e => e.offsetParent !== null);
  const out = {innerWidth: win.innerWidth, scrollWidth: doc.documentElement.scrollWidth,
               bodyScrollWidth: doc.body.scrollWidth,
               bars: visible('.wf-bar').filter(b => b.getBoundingClientRect().width > 0).length,
               rowsBefore: visible('tr.ev').length, wfBefore: visible('.wf-row').length,
               wide: [...doc.querySelectorAll('main *')]
                 .filter(e => e.getBoundingClientRect().right > win.innerWidth + 1
                              && e.offsetParent !== null
                              && !e.closest('.scroll, .hl, pre, .wf-track'))
                 .slice(0, 5).map(e => e.tagName + '.' + e.className)};
  const pick = doc.querySelector('label[for="tl-f' + AGENT + '"]');
  if (pick) { pick.click(); }
  out.rowsAfter = visible('tr.ev').length;
  out.classesAfter = [...new Set(visible('tr.ev').map(r => r.classList[1]))];
  out.wfAfter = visible('.wf-row').length;
  document.body.setAttribute('data-probe', JSON.stringify(out));
});
"""
HEIGHT = 1800


def framed(html: str, width: int, script: str = "") -> str:
    """A harness page holding the report, as it is, in an iframe `width` px wide."""
    return (
        "<!DOCTYPE html><html><head><style>body { margin:0; } iframe { border:0; "
        f'display:block; }}</style></head><body><iframe id="report" width="{width}" '
        f'height="{HEIGHT}" srcdoc="{escape(html, quote=True)}"></iframe>'
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>"
    )


def probe(tmp: Path, html: str, width: int, name: str, agent: int = -1) -> dict[str, Any]:
    """The report's layout in a `width` px frame, as Chromium measured it."""
    harness = tmp / f"{name}-probe.html"
    harness.write_text(framed(html, width, PROBE.replace("AGENT", str(agent))), encoding="utf-8")
    window = f"--window-size={max(width, 500)},{HEIGHT}"
    dom = Dom(chromium(tmp, "--dump-dom", window, harness.as_uri()))
    (body,) = dom.find("body")
    result: dict[str, Any] = json.loads(body["data-probe"])
    return result


def shoot(tmp: Path, html: str, width: int, name: str) -> Path:
    """A screenshot of the report in a `width` px frame, cropped to the frame."""
    from PIL import Image

    harness, shot = tmp / f"{name}.html", tmp / f"{name}.png"
    harness.write_text(framed(html, width), encoding="utf-8")
    window = f"--window-size={max(width, 500)},{HEIGHT}"
    chromium(tmp, f"--screenshot={shot}", window, harness.as_uri())
    with Image.open(shot) as im:
        im.crop((0, 0, width, HEIGHT)).save(shot)
    return shot


@needs_chromium
@pytest.mark.slow
def test_chromium_the_report_fits_a_phone_and_a_desktop(tmp_path: Path) -> None:
    from PIL import Image

    html = crowded_page()
    for width in (1280, 420):
        shot = shoot(tmp_path, html, width, f"report-{width}")
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
        with Image.open(shot) as im:
            assert im.size == (width, HEIGHT)
            assert len(np.unique(np.asarray(im.convert("L")))) > 16  # drawn, not blank
        measured = probe(tmp_path, html, width, f"report-{width}")
        assert measured["innerWidth"] == width, measured
        assert measured["scrollWidth"] <= width, measured
        assert measured["wide"] == [], measured
        assert measured["bars"] == len(bar_styles(html)), measured


@needs_chromium
@pytest.mark.slow
def test_chromium_the_agent_filter_hides_other_agents_rows(page: str, tmp_path: Path) -> None:
    found = re.findall(r'<label for="tl-f(\d+)">([^<]*) \(', page)
    names = {name: int(i) for i, name in found}
    coder2 = names["coder2"]
    measured = probe(tmp_path, page, 1280, "filter", agent=coder2)
    total = len(run_log(report()))
    assert measured["rowsBefore"] == total  # "all" is checked until someone picks an agent
    assert measured["rowsAfter"] == 4 and measured["classesAfter"] == [f"ag-{coder2}"]
    assert measured["wfBefore"] > measured["wfAfter"] >= 1  # coder2's call bar stays
