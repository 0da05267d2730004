"""Job and model text on a terminal: shown, never obeyed (`terminal.printable` and its users)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from multiagent_codeact.cli import main
from multiagent_codeact.domain import Solution, Task, Verdict
from multiagent_codeact.progress import task_label
from multiagent_codeact.runlog import RunStore
from multiagent_codeact.scripted import Reply, Script, ScriptedModelServer
from multiagent_codeact.solve_output import render_solution
from multiagent_codeact.terminal import printable

RAW_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H", id="clear-screen-and-home"),
        pytest.param("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m", id="colour"),
        pytest.param("\x1b]0;title\x07", "\\x1b]0;title\\x07", id="osc-title-bel"),
        pytest.param("\x1b]2;title\x1b\\", "\\x1b]2;title\\x1b\\", id="osc-title-st"),
        pytest.param("\x9b2J\x9d0;t\x9c", "\\x9b2J\\x9d0;t\\x9c", id="c1-csi-osc-st"),
        pytest.param("paid\rFREE", "paid\\x0dFREE", id="carriage-return"),
        pytest.param("yes\x08\x08\x08no", "yes\\x08\\x08\\x08no", id="backspace"),
        pytest.param("\x07\x00\x0b\x0c\x7f", "\\x07\\x00\\x0b\\x0c\\x7f", id="bel-nul-vt-ff-del"),
        pytest.param("a\u202eevil\u202cb", "a\\u202eevil\\u202cb", id="bidi-override"),
        pytest.param(
            "\u2066x\u2069\u2067\u2068", "\\u2066x\\u2069\\u2067\\u2068", id="bidi-isolates"
        ),
        pytest.param("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c", id="bidi-marks"),
        pytest.param("line 1\r\nline 2\n\tend", "line 1\nline 2\n\tend", id="crlf-newline-tab"),
        pytest.param("café 数据 🙂 \\x1b", "café 数据 🙂 \\x1b", id="ordinary-text-untouched"),
    ],
)
def test_printable_shows_what_a_terminal_would_obey(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert not RAW_CONTROL.search(printable(text))


HOSTILE = "\x1b[2J\x1b]0;pwned\x07ok\rhidden\x08X\u202eevil"
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07ok\\x0dhidden\\x08X\\u202eevil"


def test_a_solution_is_shown_inert(tmp_path: object) -> None:
    solution = Solution(
        run_id="r",
        task=Task(prompt="p"),
        verdict=Verdict.DISPUTED,
        confidence=0.5,
        code=f"print({HOSTILE!r})  # {HOSTILE}\n",
        explanation=HOSTILE,
        stdout=HOSTILE + "\n",
        result={"text": HOSTILE},
        reasons=[HOSTILE],
        error=HOSTILE + "!",
        judge=HOSTILE,
    )
    out = io.StringIO()
    console = Console(file=out, width=400)  # not a terminal: rich adds no escapes of its own
    render_solution(console, solution, RunStore(tmp_path / "runs"))  # type: ignore[operator]
    text = out.getvalue()
    assert not RAW_CONTROL.search(text), text
    # The code's comment, the explanation, the reason, the error and the judge, whole;
    # what it printed, one line per line; the result as JSON escapes.
    assert text.count(SHOWN) == 5
    assert "  \\x1b[2J\\x1b]0;pwned\\x07ok\n  hidden\\x08X\\u202eevil\n" in text
    assert '"\\u001b[2J\\u001b]0;pwned' in text


def test_a_task_label_is_inert() -> None:
    # The first line of the prompt (a CR ends it, as in a terminal), shown inert.
    assert task_label(Task(prompt=f"Sort {HOSTILE}")) == "Sort \\x1b[2J\\x1b]0;pwned\\x07ok"
    assert task_label(Task(id=HOSTILE, prompt="p")) == SHOWN


def test_doctor_shows_what_a_server_says_inert(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    script = Script(default=Reply(content=HOSTILE))  # its model list and its reply
    server = ScriptedModelServer(script, model="m", models=[f"other{HOSTILE}"])
    with server, pytest.raises(SystemExit):
        main(["doctor", "--model", "m", "--base-url", server.base_url])
    out, err = capsys.readouterr()
    assert "is not listed" in out
    assert not RAW_CONTROL.search(out + err)
    assert f"other{SHOWN}" in out


def test_an_error_line_is_inert(capsys: pytest.CaptureFixture[str]) -> None:
    # A file name is text the user did not necessarily choose (a candidate, a download).
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--task", f"t{HOSTILE}.json", "--candidates", "."])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1
    assert not RAW_CONTROL.search(err) and "\\x1b]0;pwned\\x07" in err
