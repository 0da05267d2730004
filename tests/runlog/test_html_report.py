"""The HTML report: built from hand-made run data shaped like the pipeline's, checked as markup
and then rendered by a real headless Chromium (DOM and screenshot)."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from multiagent_codeact.domain import AgentUsage, Artifact, Candidate, Solution, Task, Verdict
from multiagent_codeact.events import Event, EventKind
from multiagent_codeact.optimize import (
    HotLine,
    OptimizationReport,
    Profile,
    Rejection,
    SizeTiming,
)
from multiagent_codeact.runlog.html import render_html
from multiagent_codeact.runlog.model import RunManifest, RunTotals
from multiagent_codeact.verify import (
    CandidateEvidence,
    Cell,
    ClusterEvidence,
    Counterexample,
    Evidence,
    VerificationReport,
)
from multiagent_codeact.verify import (
    TestEvidence as _TestEvidence,
)

XSS = "<script>alert(1)</script>"
ATTR_XSS = '" onmouseover="alert(2)'
PLOT_RGB = (217, 26, 153)  # a colour nothing else on the page uses
RUN_ID = "20250101-120000-abc123"
T0 = 1_735_732_800.0
CODE = f"def add(a, b):\n    # {XSS}\n    return a + b\n"


def plot_png() -> bytes:
    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2, 3, 4], [0, 1, 0, 1, 0], color=[v / 255 for v in PLOT_RGB], linewidth=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


PNG = plot_png()


@dataclass
class Log:
    """Events numbered and timed as a Recorder would."""

    events: list[Event] = field(default_factory=list)

    def add(self, kind: EventKind, agent: str | None = None, dt: float = 0.5, **data: Any) -> None:
        last = self.events[-1].time if self.events else T0
        self.events.append(
            Event(
                run_id=RUN_ID,
                seq=len(self.events),
                time=last + dt,
                kind=kind,
                agent=agent,
                data=data,
            )
        )


def report() -> VerificationReport:
    tests = [
        _TestEvidence(
            id="example.1",
            source="example",
            code="assert add(1, 2) == 3",
            passed_by=["c1.0", "c2.0"],
        ),
        _TestEvidence(
            id="t-c1.0.1",
            source="candidate",
            author="c1.0",
            code=f"assert add(2, 2) == 4  # {XSS}",
            passed_by=["c1.0"],
        ),
        _TestEvidence(
            id="designer.1", source="designer", code="assert add(5, 2) == 7", passed_by=["c1.0"]
        ),
    ]
    cells = [
        Cell(test="example.1", candidate="c1.0", outcome="pass"),
        Cell(test="t-c1.0.1", candidate="c1.0", outcome="pass"),
        Cell(test="designer.1", candidate="c1.0", outcome="pass"),
        Cell(test="example.1", candidate="c2.0", outcome="pass"),
        Cell(
            test="t-c1.0.1", candidate="c2.0", outcome="fail", expected="4", actual=f"5{ATTR_XSS}"
        ),
        Cell(test="designer.1", candidate="c2.0", outcome="fail", expected="7", actual="10"),
    ]
    evidence = Evidence(
        candidates=[
            CandidateEvidence(
                id="c1.0",
                status="ok",
                hard_passed=1,
                hard_total=1,
                tests_passed=2,
                tests_total=2,
                cluster=0,
            ),
            CandidateEvidence(
                id="c2.0",
                status="ok",
                hard_passed=1,
                hard_total=1,
                tests_passed=0,
                tests_total=2,
                cluster=1,
            ),
        ],
        tests=tests,
        cells=cells,
        clusters=[
            ClusterEvidence(index=0, members=["c1.0"], tests_passed=2, score=2.9, probability=0.8),
            ClusterEvidence(index=1, members=["c2.0"], tests_passed=0, score=1.5, probability=0.2),
        ],
        counterexamples=[
            Counterexample(
                call="add(5, 2)", cluster=1, selected_output="7", rival_output=f"10 {XSS}"
            ),
        ],
        notes=["a note about the inputs"],
    )
    return VerificationReport(
        selected=Candidate(id="c1.0", code=CODE),
        verdict=Verdict.VERIFIED,
        confidence=0.93,
        reasons=["2 independent candidates agree", f"reason with {XSS}"],
        evidence=evidence,
    )


def run_log(rep: VerificationReport) -> list[Event]:
    log = Log()
    task = {"prompt": f"Write add(a, b). {XSS}", "entry_point": "add"}
    log.add("run_started", None, 0, task=task, config={}, models={"coder": "scripted-model"})
    log.add("message", "user", to="coder1", content=f"Task:\n{XSS}")
    log.add(
        "model_call",
        "coder1",
        model="scripted-model",
        prompt_tokens=600,
        completion_tokens=150,
        cost_usd=0.006,
        latency_ms=1250.0,
        attempts=1,
        price_known=True,
    )
    log.add(
        "message",
        "coder1",
        type="TextMessage",
        content=f"Here it is {XSS}",
        prompt_tokens=600,
        completion_tokens=150,
        seconds=1.3,
    )
    log.add(
        "candidate",
        "coder1",
        round=0,
        id="c1.0",
        usable=True,
        problems=[],
        code=CODE,
        tests="assert add(2, 2) == 4",
        explanation=f"Adds. {XSS}",
    )
    log.add(
        "candidate",
        "coder2",
        round=0,
        id=None,
        usable=False,
        problems=[f"no code block {XSS}"],
        code=None,
        tests="",
        explanation="",
    )
    log.add(
        "execution",
        "executor",
        candidate="c1.0",
        status="ok",
        load_error=None,
        trusted="1/1",
        generated="2/2",
        calls={"value": 20},
        cluster=0,
    )
    log.add(
        "verdict",
        "verifier",
        verdict="disputed",
        confidence=0.5,
        selected="c1.0",
        reasons=["too little evidence"],
        clusters=[],
        counterexamples=[],
        notes=[],
    )
    log.add("repair", "coder2", feedback=f"- Your reply had no code {XSS}")
    log.add(
        "model_call",
        "coder2",
        model="scripted-model",
        prompt_tokens=634,
        completion_tokens=80,
        cost_usd=0.0063,
        latency_ms=800.0,
        attempts=2,
        price_known=True,
        error=None,
    )
    log.add(
        "candidate",
        "coder2",
        round=1,
        id="c2.0",
        usable=True,
        problems=[],
        code="def add(a, b):\n    return a * b if a > 3 else a + b",
        tests="",
        explanation="",
    )
    log.add(
        "verdict",
        "verifier",
        verdict="verified",
        confidence=0.93,
        selected="c1.0",
        reasons=rep.reasons,
        clusters=[c.model_dump() for c in rep.evidence.clusters],
        counterexamples=[c.model_dump() for c in rep.evidence.counterexamples],
        notes=[],
    )
    log.add("error", "judge", type="RuntimeError", message=f"judge failed {XSS}")
    log.add(
        "execution",
        "executor",
        candidate="c1.0",
        final=True,
        exit_code=0,
        stdout=f"printed {XSS}",
        stderr="",
        result=3,
        error=None,
        artifacts=[{"name": "figure_1.png", "mime_type": "image/png", "size": len(PNG)}],
    )
    log.add(
        "run_finished",
        None,
        verdict="verified",
        confidence=0.93,
        error=None,
        usage={},
        duration_ms=7000.0,
    )
    return log.events


def manifest(**changes: Any) -> RunManifest:
    values: dict[str, Any] = {
        "run_id": RUN_ID,
        "status": "finished",
        "task": {"prompt": f"Write add(a, b). {XSS}", "entry_point": "add"},
        "config": {"candidates": 2},
        "models": {"coder": "scripted-model"},
        "started_at": datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc),
        "finished_at": datetime(2025, 1, 1, 12, 0, 7, tzinfo=timezone.utc),
        "verdict": "verified",
        "confidence": 0.93,
        "totals": RunTotals(
            model_calls=2,
            prompt_tokens=1234,
            completion_tokens=230,
            cost_usd=0.0123,
            duration_ms=7000.0,
        ),
        "artifacts": ["figure_1.png", "data.csv"],
    }
    values.update(changes)
    return RunManifest(**values)


def solution(rep: VerificationReport) -> Solution:
    return Solution(
        run_id=RUN_ID,
        task=Task(
            prompt=f"Write add(a, b). {XSS}", entry_point="add", examples=["assert add(1, 2) == 3"]
        ),
        verdict=Verdict.VERIFIED,
        confidence=0.93,
        code=CODE,
        explanation=f"It adds the two numbers. {XSS}",
        tests="assert add(2, 2) == 4",
        result=3,
        stdout=f"printed {XSS}",
        artifacts=[Artifact(name="figure_1.png", mime_type="image/png", data=PNG)],
        usage={"coder1": AgentUsage(calls=1, prompt_tokens=600, completion_tokens=150)},
        rounds=2,
        reasons=rep.reasons,
        judge=f"looks right {XSS}",
        report=rep,
    )


ARTIFACTS = {"figure_1.png": PNG, "data.csv": b"x,y\n" * 512}


@pytest.fixture(scope="module")
def page() -> str:
    rep = report()
    return render_html(manifest(), run_log(rep), solution(rep), ARTIFACTS)


class Dom(HTMLParser):
    """Tags with their attributes, and the page's text as a browser would show it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def find(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


# -- the markup ------------------------------------------------------------------------------
def test_model_text_is_shown_as_text_never_as_markup(page: str) -> None:
    dom = Dom(page)
    assert dom.find("script") == []
    assert "<script" not in page.lower()
    # task, messages, code, explanation, test code, errors, stdout, judge, counterexample...
    assert dom.text.count(XSS) >= 10
    assert "alert(1)" in dom.text
    for _, attrs in dom.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
    titles = [a["title"] for a in dom.find("td") if "title" in a]
    assert any(ATTR_XSS in t for t in titles)  # intact inside the attribute, not breaking out


def test_plot_is_an_inline_data_uri_and_nothing_is_fetched(page: str) -> None:
    dom = Dom(page)
    (img,) = dom.find("img")
    prefix = "data:image/png;base64,"
    assert img["src"].startswith(prefix)
    assert base64.b64decode(img["src"][len(prefix) :]) == PNG
    assert img["alt"] == "figure_1.png"
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    for _, attrs in dom.tags:
        for name in ("src", "href"):
            assert attrs.get(name, "#").startswith(("#", "data:image/")), attrs


def test_urls_in_model_text_stay_text() -> None:
    rep = report()
    events = [*run_log(rep)]
    events.append(
        events[1].model_copy(
            update={
                "seq": 99,
                "data": {
                    "content": '<img src="https://evil.example/x.png"> see https://evil.example'
                },
            }
        )
    )
    dom = Dom(render_html(manifest(), events, solution(rep), ARTIFACTS))
    assert len(dom.find("img")) == 1
    assert "https://evil.example" in dom.text
    assert not any("://" in v for _, attrs in dom.tags for v in attrs.values())


def test_summary_has_verdict_confidence_totals_and_task(page: str) -> None:
    dom = Dom(page)
    verdicts = [a for a in dom.find("div") if "verdict" in a.get("class", "").split()]
    assert verdicts and "v-verified" in verdicts[0]["class"]
    text = dom.text
    for shown in ("confidence 0.93", "1,464", "1,234 / 230", "$0.0123", "7.0 s", "Write add(a, b)"):
        assert shown in text, shown
    assert "<dt>model calls</dt><dd>2</dd>" in page
    assert "2 independent candidates agree" in text and "looks right" in text


def test_final_code_is_highlighted_with_output_and_artifacts(page: str) -> None:
    dom = Dom(page)
    assert any("hl" in a.get("class", "").split() for a in dom.find("div"))
    assert '<span class="k">def</span>' in page  # pygments marked the keyword
    assert "return a + b" in dom.text
    assert "It adds the two numbers." in dom.text
    assert f"printed {XSS}" in dom.text
    assert "data.csv" in dom.text and "2.0 KiB" in dom.text and "text/csv" in dom.text


def test_evidence_matrix_clusters_and_counterexamples(page: str) -> None:
    dom = Dom(page)
    cells = [a for a in dom.find("td") if a.get("class", "").startswith("o-")]
    assert [c["class"] for c in cells].count("o-pass") == 4
    assert [c["class"] for c in cells].count("o-fail") == 2
    fail = next(c for c in cells if "designer.1 on c2.0" in c.get("title", ""))
    assert "expected: 7" in fail["title"] and "actual: 10" in fail["title"]
    assert "★" in dom.text  # the selected candidate is marked
    assert "posterior" in dom.text and "0.80" in dom.text and "0.20" in dom.text
    assert "add(5, 2)" in dom.text and f"10 {XSS}" in dom.text


def test_timeline_has_rounds_messages_and_per_call_costs(page: str) -> None:
    dom = Dom(page)
    text = dom.text
    assert "Round 1" in text and "Round 2" in text and "After verification" in text
    assert len(dom.find("details")) >= 5  # messages and candidates fold away
    for shown in ("600 + 150 tokens", "$0.0060", "1.2 s", "634 + 80 tokens", "800 ms"):
        assert shown in text, shown
    assert "2 attempts" in text
    assert "+0.50 s" in text  # offsets from the first event


def test_an_interrupted_run_without_solution_still_renders() -> None:
    rep = report()
    events = run_log(rep)[:12]  # killed after the second verdict
    html = render_html(
        manifest(
            status="interrupted",
            verdict=None,
            confidence=None,
            totals=RunTotals(),
            finished_at=None,
        ),
        events,
        None,
        {},
    )
    dom = Dom(html)
    assert "interrupted" in dom.text and "no verdict" in dom.text
    assert "1,234 / 230" in dom.text  # totals summed from the model_call events
    assert "Behaviour clusters" in dom.text and "add(5, 2)" in dom.text  # from the verdict event
    assert "return a + b" in dom.text  # the selected candidate's code from its event
    assert "figure_1.png" in dom.text and "missing" in dom.text
    assert dom.find("img") == [] and dom.find("script") == []


def test_only_raster_images_are_inlined() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = render_html(manifest(artifacts=[]), [], None, {"x.svg": svg, "fake.png": b"not png"})
    dom = Dom(html)
    assert dom.find("img") == [] and dom.find("script") == [] and dom.find("svg") == []
    assert "x.svg" in dom.text and "fake.png" in dom.text


# -- the optimizer's report ------------------------------------------------------------------
BAD_REWRITE = f"def add(a, b):\n    return a  # {XSS}\n"


def optimization() -> OptimizationReport:
    def prof(medians_ms: list[float], exponent: float, memory: int) -> Profile:
        return Profile(
            timings=[
                SizeTiming(size=s, samples_ns=[m * 1e6] * 3)
                for s, m in zip((100, 1000, 10000), medians_ms, strict=True)
            ],
            exponent=exponent,
            hot_lines=[HotLine(function="add", line=2, hits=10_000, source="return sum(...)")],
            peak_memory_bytes=memory,
            memory_method="tracemalloc",
        )

    return OptimizationReport(
        status="accepted",
        reason="passes every test, same outputs, 7.9x faster",
        code=CODE,
        speedup=7.9,
        time_before_s=0.0468,
        time_after_s=0.0003,
        memory_before_bytes=3 * 1024 * 1024,
        memory_after_bytes=2048,
        before=prof([0.5, 4.3, 42.0], 1.98, 3 * 1024 * 1024),
        after=prof([0.1, 0.1, 0.1], 0.02, 2048),
        rejected=[
            Rejection(
                attempt=1,
                kind="output",
                reason=f"add(1, 2) gave 1, the original 3 {XSS}",
                code=BAD_REWRITE,
                speedup=9.5,
            )
        ],
        model_calls=2,
        duration_ms=2300.0,
    )


def optimization_events() -> list[Event]:
    rep = report()
    events = run_log(rep)
    log = Log(events[:-2])  # before the final run
    log.add(
        "optimization",
        "optimizer",
        attempt=1,
        accepted=False,
        rejection="output",
        reason=f"add(1, 2) gave 1, the original 3 {XSS}",
        speedup=9.5,
    )
    log.add("optimization", "optimizer", attempt=2, accepted=True, rejection=None, speedup=7.9)
    log.add(
        "optimization",
        "optimizer",
        status="accepted",
        reason="passes every test, same outputs, 7.9x faster",
        speedup=7.9,
        time_before_s=0.0468,
        time_after_s=0.0003,
        rejected=[f"add(1, 2) gave 1, the original 3 {XSS}"],
        model_calls=2,
    )
    return log.events


def section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_the_optimization_report_shows_before_after_and_rejections() -> None:
    rep = report()
    sol = solution(rep).model_copy(update={"optimization": optimization()})
    html = render_html(manifest(), optimization_events(), sol, ARTIFACTS)
    assert '<a href="#optimization">Optimization</a>' in html
    part = section(html, "optimization")
    text = Dom(part).text
    for shown in (
        "accepted",
        "7.9x faster",
        "7.9x",  # the speedup stat
        "46.8 ms",
        "0.3 ms",
        "3.0 MiB (tracemalloc)",
        "2.0 KiB (tracemalloc)",
        "1.98",  # growth exponent before
        "0.02",  # ...and after
        "Hottest lines before",
        "return sum(...)",
        "10,000",
        "Rejected rewrites (1)",
        "output",
        "9.5x",
        f"add(1, 2) gave 1, the original 3 {XSS}",
        "Rewrite 1",
    ):
        assert shown in text, shown
    assert "<script" not in part.lower()  # the reason and the rewrite's code are escaped
    assert "&lt;script&gt;" in part
    # The rejected rewrite's code folds away, highlighted like the final code.
    details = part[part.index("Rewrite 1") :]
    assert '<div class="hl">' in details and '<span class="k">return</span>' in details
    # Timeline rows say what each optimization event was, on one line.
    timeline = Dom(section(html, "timeline")).text
    assert "rewrite 1 rejected (output): add(1, 2) gave 1" in timeline
    assert "rewrite 2 accepted · 7.9x faster" in timeline
    assert "accepted · 7.9x faster · 46.8 ms → 0.3 ms · 1 rejected" in timeline


def test_without_a_solution_the_optimization_comes_from_its_events() -> None:
    html = render_html(manifest(status="interrupted"), optimization_events(), None, {})
    part = Dom(section(html, "optimization")).text
    assert "accepted" in part and "7.9x" in part and "46.8 ms" in part
    assert f"add(1, 2) gave 1, the original 3 {XSS}" in part and "Rewrite 1" not in part
    assert "<script" not in html.lower()


def test_no_optimization_section_when_the_optimizer_did_not_run(page: str) -> None:
    assert 'id="optimization"' not in page and "#optimization" not in page


# -- a real browser --------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
)


def chromium(tmp: Path, *args: str) -> str:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def browser_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chromium")


def screenshot(tmp: Path, html: str, name: str) -> Image.Image:
    page_file, shot = tmp / f"{name}.html", tmp / f"{name}.png"
    page_file.write_text(html, encoding="utf-8")
    chromium(tmp, f"--screenshot={shot}", "--window-size=1200,2000", page_file.as_uri())
    with Image.open(shot) as im:
        return im.convert("RGB")


def plot_pixels(im: Image.Image) -> int:
    """Pixels within a small distance of the plot's line colour."""
    rgb = np.asarray(im, dtype=np.int16)
    return int((np.abs(rgb - np.array(PLOT_RGB)).max(axis=2) < 30).sum())


@needs_chromium
def test_chromium_renders_the_page_as_text_without_script(page: str, browser_dir: Path) -> None:
    page_file = browser_dir / "report.html"
    page_file.write_text(page, encoding="utf-8")
    dom = Dom(chromium(browser_dir, "--dump-dom", page_file.as_uri()))
    assert dom.find("script") == []
    assert XSS in dom.text  # the browser shows the payload as text
    assert "VERIFIED" in dom.text.upper() and "confidence 0.93" in dom.text
    assert "return a + b" in dom.text and "def" in dom.text
    imgs = dom.find("img")
    assert len(imgs) == 1 and imgs[0]["src"].startswith("data:image/png;base64,")
    assert "Test matrix" in dom.text and "Timeline" in dom.text


@needs_chromium
def test_chromium_shows_the_plot(page: str, browser_dir: Path) -> None:
    with_plot = screenshot(browser_dir, page, "with")
    rep = report()
    no_plot = screenshot(
        browser_dir, render_html(manifest(), run_log(rep), None, {"data.csv": b"x"}), "without"
    )
    assert with_plot.size == (1200, 2000)
    shown, baseline = plot_pixels(with_plot), plot_pixels(no_plot)
    assert baseline < 50, baseline
    assert shown > 1500, shown  # the 8 px line drawn at its own colour, hundreds of px long
