"""What a newcomer meets first: `--version`, help, Ctrl-C, a host without bubblewrap, the
speed of `sandbox run`, and `verify`'s files. In-process through the console-script entry
point, except where only a real process shows it (a signal)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import multiagent_codeact
from multiagent_codeact import cli as cli_module
from multiagent_codeact.cli import main, once_each, preload_for
from multiagent_codeact.sandbox import DEFAULT_PRELOAD, Sandbox
from multiagent_codeact.sandbox.doctor import LayerCheck

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
LONGEST = [
    str(EXAMPLES / "longest_run.yaml"),
    "--scripted",
    str(EXAMPLES / "scripted" / "longest_run.yaml"),
]
CONSOLE_SCRIPT = Path(sys.executable).with_name("mcodeact")
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, out, err


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MCODEACT_MODEL", "MCODEACT_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MCODEACT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A host without bubblewrap: nothing on PATH (the interpreter is found by its path)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# -- --version and help ------------------------------------------------------------------------
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--version")
    assert code == 0 and err == ""
    assert out == f"mcodeact {multiagent_codeact.__version__} (Python {sys.version.split()[0]})\n"


COMMANDS = [
    [],
    ["solve"],
    ["run"],
    ["verify"],
    ["doctor"],
    ["sandbox"],
    ["sandbox", "run"],
    ["sandbox", "doctor"],
    ["runs"],
    ["runs", "list"],
    ["runs", "show"],
    ["runs", "tail"],
    ["runs", "export"],
    ["runs", "reindex"],
    ["config", "validate"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "mcodeact")
def test_help_shows_no_type_for_flags(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, out, _ = cli(capsys, *command, "--help")
    assert code == 0
    assert "<bool>" not in out
    assert re.search(r"--help\s+Show this message and exit", out)  # the flag, then its help
    if "--json" in out:
        assert re.search(r"--json\s+Print", out)


def test_options_that_take_a_value_still_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "solve", "--help")
    assert re.search(r"--runs-dir\s+DIR", out) and re.search(r"--isolation\s+<bwrap\|process>", out)


# -- Ctrl-C ------------------------------------------------------------------------------------
@pytest.mark.parametrize("raised", [KeyboardInterrupt, asyncio.CancelledError])
def test_ctrl_c_is_one_line_and_exit_130(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    raised: type[BaseException],
) -> None:
    # asyncio.run can end with a CancelledError instead of a KeyboardInterrupt: the same line.
    def interrupted(self: Sandbox, code: str, **kwargs: Any) -> None:
        raise raised

    monkeypatch.setattr(Sandbox, "run", interrupted)
    job = tmp_path / "job.py"
    job.write_text("print(1)\n")
    code, out, err = cli(capsys, "sandbox", "run", str(job))
    assert (code, out, err) == (130, "", "mcodeact: interrupted (Ctrl-C)\n")


def test_ctrl_c_during_a_run_says_where_it_is_recorded() -> None:
    # A real SIGINT, as a terminal sends it, once the run has begun (the scripted-replies note).
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "run", *LONGEST],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "model replies are SCRIPTED" in first
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest and "CancelledError" not in rest
    lines = rest.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcodeact: interrupted (Ctrl-C)"), rest
    if ": run " in lines[0]:  # cut after the run began: where it is recorded
        assert re.fullmatch(r".*: run \S+ is recorded as interrupted in \S+", lines[0])


# -- a host without bubblewrap -----------------------------------------------------------------
def test_without_bubblewrap_solve_exits_2_and_the_hint_works(
    no_bwrap: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "run", *LONGEST)
    assert code == 2 and out == ""
    [line] = [x for x in err.splitlines() if x.startswith("mcodeact:")]
    assert "bubblewrap (`bwrap`) is not on PATH" in line and "--isolation process" in line
    # The hint is true: the same command with it runs (and says what it gives up).
    code, out, err = cli(capsys, "run", *LONGEST, "--isolation", "process")
    assert code == 0, err
    assert "verified" in out and "warning: Sandbox(isolation='process') runs jobs without" in err


def test_without_bubblewrap_sandbox_run_exits_2(
    no_bwrap: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = tmp_path / "job.py"
    job.write_text("print(1)\n")
    code, _, err = cli(capsys, "sandbox", "run", str(job))
    assert code == 2 and err.count("\n") == 1 and "--isolation process" in err


def test_sandbox_doctor_without_bubblewrap_says_the_fix_once(
    no_bwrap: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "sandbox", "doctor")
    assert code == 2  # the sandbox cannot start here: a broken set-up
    assert out.count("apt-get install") == 1 and out.count("--isolation") == 1
    assert out.count("not probed: the same cause as bubblewrap") == 8
    code, out, _ = cli(capsys, "sandbox", "doctor", "--json")  # machines get every detail
    layers = json.loads(out)["layers"]
    assert code == 2 and all("bwrap" in layer["detail"] for layer in layers)


def test_once_each_points_at_the_row_that_said_it() -> None:
    details = ["fine", "the sandbox did not start: X", "not probed: the sandbox did not start: X"]
    details += ["not probed: the sandbox did not start: X", "not probed: Y"]
    checks = [
        LayerCheck(name=n, active=False, detail=d) for n, d in zip("abcde", details, strict=True)
    ]
    assert once_each(checks) == [
        "fine",
        "the sandbox did not start: X",
        "not probed: the same cause as b",
        "not probed: the same cause as b",
        "not probed: Y",
    ]


# -- sandbox run -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "preload"),
    [
        ("print('hi')\n", []),
        ("import numpy as np\nprint(np.pi)\n", ["numpy"]),
        ("from numpy.linalg import norm\n", ["numpy"]),
        ("import matplotlib.pyplot as plt\n", ["matplotlib", "matplotlib.pyplot"]),
        ("def f():\n    import matplotlib\n", ["matplotlib", "matplotlib.pyplot"]),
        ("import numpyish, os\nfrom . import numpy\n", []),
        ("def broken(:\n", []),
    ],
)
def test_sandbox_run_warms_only_what_the_job_imports(code: str, preload: list[str]) -> None:
    assert preload_for(code) == preload
    assert all(name in DEFAULT_PRELOAD for name in preload)


@pytest.fixture
def built_sandboxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def recording(*args: Any, **kwargs: Any) -> Sandbox:
        seen.append(kwargs)
        return Sandbox(*args, **kwargs)

    monkeypatch.setattr(cli_module, "Sandbox", recording)
    yield seen


HOSTILE = "\x1b[2J\x1b]0;pwned\x07ok\rX\x08\u202eevil"


def test_sandbox_run_of_a_plain_job_loads_no_preloads_and_shows_output_inert(
    built_sandboxes: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    job = tmp_path / "job.py"
    job.write_text(f"import sys\nprint({HOSTILE!r})\nsys.stderr.write({HOSTILE!r})\n")
    code, piped, piped_err = cli(capsys, "sandbox", "run", str(job))
    assert code == 0 and built_sandboxes[0]["preload"] == []
    assert piped == HOSTILE + "\n"  # a pipe or a file gets the job's output exactly
    assert piped_err.startswith(HOSTILE + "\n── ok")  # the report on a line of its own
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, shown, shown_err = cli(capsys, "sandbox", "run", str(job))
    shown_err = re.sub(r"\x1b\[[0-9;]*m", "", shown_err)  # our report's own colours
    assert code == 0 and not RAW_CONTROL.search(shown + shown_err)
    assert shown == "\\x1b[2J\\x1b]0;pwned\\x07ok\\x0dX\\x08\\u202eevil\n"
    assert shown_err.startswith("\\x1b[2J\\x1b]0;pwned\\x07ok\\x0dX\\x08\\u202eevil\n── ok")


def test_sandbox_run_of_a_numpy_job_warms_numpy(
    built_sandboxes: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = tmp_path / "job.py"
    job.write_text("import numpy as np\nresult = float(np.sqrt(16.0))\n")
    code, _, err = cli(capsys, "sandbox", "run", str(job))
    assert code == 0 and "result: 4.0" in err
    assert built_sandboxes[0]["preload"] == ["numpy"]


# -- verify ------------------------------------------------------------------------------------
def test_verify_help_documents_the_candidates_folder(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "verify", "--help")
    text = " ".join(out.replace("│", " ").split())
    for said in ("each NAME.py is one candidate's code", "NAME.tests.py", "NAME.md", "NAME.json"):
        assert said in text, said
    assert '{"prompt": "...", "entry_point": "f"' in text


def _jitter(stop: threading.Event) -> None:
    """Use `random` a thousand times a second until stopped, as a retrying HTTP client does."""
    while not stop.wait(0.001):
        random.random()


@pytest.fixture
def candidates(tmp_path: Path) -> tuple[Path, Path]:
    task = tmp_path / "task.json"
    task.write_text(
        json.dumps({"prompt": "Write add(a, b). assert add(2, 3) == 5", "entry_point": "add"})
    )
    folder = tmp_path / "candidates"
    folder.mkdir()
    (folder / "plus.py").write_text("def add(a, b):\n    return a + b\n")
    (folder / "plus.tests.py").write_text("assert add(1, 1) == 2\n")
    (folder / "plus.md").write_text("Adds with +.\n")
    (folder / "sum.json").write_text(json.dumps({"code": "def add(a, b):\n    return sum((a, b))"}))
    (folder / f"{HOSTILE}.py").write_text("def add(a, b):\n    return a - b\n")
    (folder / "notes.txt").write_text("skipped\n")
    return task, folder


def test_verify_reads_the_folder_as_documented_and_shows_names_inert(
    candidates: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    task, folder = candidates
    # A thread using `random` while Hypothesis draws, as an HTTP client's retry jitter does:
    # Hypothesis warns about `random` in strategies, which the user must not see.
    stop = threading.Event()
    spinner = threading.Thread(target=_jitter, args=(stop,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spinner.start()
        try:
            code, out, err = cli(
                capsys, "verify", "--task", str(task), "--candidates", str(folder),
                "--isolation", "process", "--inputs", "20",
            )  # fmt: skip
        finally:
            stop.set()
            spinner.join()
    assert code == 0, err
    hypothesis = [w for w in caught if "Hypothesis" in w.category.__name__]
    assert hypothesis == [], [str(w.message) for w in hypothesis]
    assert "warning: Sandbox(isolation='process')" in err  # the weaker mode, said once
    assert "verified" in out and "2 distinct programs" in out
    # plus.tests.py was read: it is the one test suite beside the task's example.
    assert re.search(r"plus\s+│\s+ok\s+│\s+1/1\s+│\s+1/1", out)
    assert re.search(r"sum\s+│\s+ok", out) and "notes" not in out
    assert not RAW_CONTROL.search(out) and "\\x1b[2J\\x1b]0;pwned" in out  # a name, inert
    _, out, _ = cli(
        capsys,
        "verify",
        "--task",
        str(task),
        "--candidates",
        str(folder),
        "--json",
        "--inputs",
        "5",
    )
    report = json.loads(out)
    ids = {c["id"] for c in report["evidence"]["candidates"]}
    assert ids == {"plus", "sum", HOSTILE} and not RAW_CONTROL.search(out)
