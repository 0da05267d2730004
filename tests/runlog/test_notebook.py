"""The Jupyter cards of `Solution` and `RunRecord`: what they show, and that hostile text from a
model or a job stays text (parsed as a browser would, then rendered in a real Chromium)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import TASK, record_sample, sample_solution, tiny_png, write_events

from multiagent_codeact.domain import Artifact, Solution, Task, Verdict
from multiagent_codeact.runlog import RunStore
from multiagent_codeact.runlog.notebook import record_card, solution_card

XSS = "<script>alert(1)</script>"
IMG_XSS = '<img src=x onerror="alert(2)">'
CLOSE_PRE = "</pre></div><script>alert(3)</script>"
TERMINAL = "\x1b[2J\x1b]0;owned\x07\u202e"
ALLOWED_TAGS = {"div", "b", "span", "ul", "li", "pre", "code", "img"}


class Markup(HTMLParser):
    """Tags with their attributes, and the text, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def hostile_solution() -> Solution:
    return Solution(
        run_id="20260101-000000-evil01",
        task=Task(prompt=f"Add two numbers {IMG_XSS} {TERMINAL}", entry_point="add"),
        verdict=Verdict.DISPUTED,
        confidence=0.41,
        code=f"def add(a, b):\n    # {CLOSE_PRE}\n    return a + b\n",
        result={"html": XSS},
        stdout=f"printed {TERMINAL} {XSS}\n",
        reasons=[f"two clusters disagree on add(1, {IMG_XSS})"],
        error=None,
        artifacts=[
            Artifact(name="plot.png", mime_type="image/png", data=tiny_png()),
            Artifact(name='x" onload="alert(4).svg', mime_type="image/svg+xml", data=b"<svg/>"),
            Artifact(name="big.png", mime_type="image/png", data=b"\x89PNG" + b"0" * (3 << 20)),
        ],
    )


def assert_inert(html: str) -> Markup:
    markup = Markup(html)
    tags = {tag for tag, _ in markup.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for tag, attrs in markup.tags:
        assert set(attrs) <= {"style", "src", "alt"}, (tag, attrs)
        if tag == "img":
            assert str(attrs["src"]).startswith("data:image/png;base64,")
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in html
    return markup


def test_a_solution_card_shows_the_verdict_the_code_and_the_output() -> None:
    html = solution_card(sample_solution("20260101-000000-aaa111"))
    text = assert_inert(html).text
    assert "VERIFIED" in text and "confidence 0.93" in text
    assert "run 20260101-000000-aaa111" in text and "1 round" in text and "3.21 s" in text
    assert "def dedupe(xs):\n    seen = set()" in text
    assert "result: [3, 1, 2]" in text
    assert "c1.0 passes every trusted example" in text
    assert html.count("<img ") == 1  # the plot, inline


def test_hostile_text_in_a_solution_stays_text() -> None:
    html = solution_card(hostile_solution())
    markup = assert_inert(html)
    text = markup.text
    assert CLOSE_PRE in text and IMG_XSS in text and XSS in text  # shown, as written
    assert "\\x1b[2J" in text and "\\u202e" in text  # control characters made visible
    assert "DISPUTED" in text and "confidence 0.41" in text
    images = [attrs for tag, attrs in markup.tags if tag == "img"]
    assert [a["alt"] for a in images] == ["plot.png"]  # not the SVG, not the 3 MB one
    assert 'x" onload="alert(4).svg (image/svg+xml, 6 bytes)' in text
    assert "big.png (image/png, 3,145,732 bytes)" in text


def test_long_code_and_output_are_cut_with_a_count() -> None:
    base = sample_solution("r1")
    long = base.model_copy(
        update={"code": "\n".join(f"x{i} = {i}" for i in range(250)), "stdout": "y\n" * 100}
    )
    text = Markup(solution_card(long)).text
    assert "x199 = 199" in text and "x200 = 200" not in text and "… 50 more lines" in text
    assert "… 60 more lines" in text


def test_solution_repr_html_is_the_card() -> None:
    solution = sample_solution("r1")
    assert solution._repr_html_() == solution_card(solution)


def test_a_record_card_of_a_finished_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    record_sample(store, "20260101-000000-aaa111")
    record = store.get("20260101-000000-aaa111")
    html = record._repr_html_()
    assert html == record_card(record)
    text = assert_inert(html).text
    assert "run 20260101-000000-aaa111" in text and "finished" in text
    assert "3 model calls" in text and "VERIFIED" in text and "def dedupe(xs):" in text


def test_a_record_card_of_a_running_and_of_an_interrupted_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    with store.open_run("live", task={"prompt": f"Sort {XSS}\nsecond line"}) as writer:
        write_events(writer, "live", upto=7)  # the first two of the sample's model calls
        text = assert_inert(record_card(store.get("live"))).text
    assert "running" in text and "still running" in text and "no solution yet" in text
    assert f"Sort {XSS} second line" in text
    assert "2 model calls" in text  # counted from the events so far

    gone = store.open_run("gone", task=TASK)
    gone.abort(f"cancelled {TERMINAL}", status="interrupted")
    text = assert_inert(record_card(store.get("gone"))).text
    assert "interrupted" in text and "no solution was saved" in text
    assert "error: cancelled \\x1b[2J" in text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_chromium_renders_a_hostile_card_as_text(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    page = tmp_path / "card.html"
    body = solution_card(hostile_solution())
    page.write_text(f"<!DOCTYPE html><html><head><title>card</title></head><body>{body}</body>")
    cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
           page.as_uri()]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Markup(done.stdout)
    assert "script" not in {tag for tag, _ in dom.tags}
    assert CLOSE_PRE in dom.text and IMG_XSS in dom.text
    assert [a.get("alt") for tag, a in dom.tags if tag == "img"] == ["plot.png"]
