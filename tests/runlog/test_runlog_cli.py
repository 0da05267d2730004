"""`mcodeact runs ...` in-process through the console-script entry point, on real run folders."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import T0, TASK, record_sample, write_events

from multiagent_codeact.cli import main
from multiagent_codeact.events import Event
from multiagent_codeact.runlog import RunStore

RUN = "20260101-000000-a1b2c3"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, out, err


@pytest.fixture
def one_run(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    monkeypatch.setenv("COLUMNS", "120")
    store = RunStore()
    record_sample(store, RUN)
    return store


def test_list_shows_the_runs_and_json_for_scripts(
    one_run: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "runs", "list")
    assert code == 0 and err == ""
    header, row = out.splitlines()
    assert header.split() == [
        "run",
        "status",
        "verdict",
        "conf",
        "calls",
        "tokens",
        "cost",
        "time",
        "task",
    ]
    assert row.split()[:8] == [RUN, "finished", "verified", "0.93", "3", "1,404", "$0.0003", "3.21"]
    assert "Write a function `dedupe(xs)`" in row

    code, out, _ = cli(capsys, "runs", "list", "--json", "--status", "finished", "--limit", "5")
    [run] = json.loads(out)
    assert (code, run["run_id"], run["totals"]["model_calls"]) == (0, RUN, 3)
    code, out, err = cli(capsys, "runs", "list", "--status", "interrupted")
    assert (code, out) == (0, "") and "no runs in" in err


def test_list_fits_a_narrow_terminal(
    one_run: RunStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    _, out, _ = cli(capsys, "runs", "list")
    assert all(len(line) <= 80 for line in out.splitlines())
    assert RUN in out and "finished" in out and "verified" in out and "Write a" in out


@pytest.mark.parametrize(
    "args",
    [("runs", "list", "--status", "bogus"), ("runs", "list", "--limit", "-1"), ("runs", "show")],
)
def test_bad_options_exit_2_with_one_line(
    one_run: RunStore, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_show_prints_a_timeline(one_run: RunStore, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "runs", "show", RUN[: 8 + 6])
    assert code == 0 and err == ""
    assert f"run      {RUN} · finished" in out
    assert "verdict  verified (confidence 0.93)" in out
    assert "usage    3 model calls · 1,121 in / 283 out tokens · $0.0003 · 2 errors" in out
    for expected in [
        r"\+0\.00s pipeline\s+run_started\s+task: Write a function",
        r"\+1\.42s coder1\s+model_call\s+gpt-4o-mini · 412 in / 188 out tokens · \$0\.0002",
        r"\+1\.81s coder2\s+candidate\s+c2\.0 \(round 0\) · 2 lines of code · 1 problem",
        r"↳ problem: no tests in the reply",
        r"test_designer\s+error\s+ModelCallError: HTTP 429",
        r"executor\s+execution\s+c2\.0 rejected · trusted 0/1 passed",
        r"verifier\s+verdict\s+verified · confidence 0\.93 · selected c1\.0",
        r"↳ counterexample: dedupe\(\[1, 0\]\) → \[1, 0\] \(selected\) vs \[0, 1\] \(cluster 1\)",
        r"final run of c1\.0 · exit 0 · result \[3, 1, 2\] · 1 artifact: plot\.png",
        r"artifact: plot\.png \(image/png, 67 bytes\) -> .*artifacts/plot\.png",
    ]:
        assert re.search(expected, out), expected
    assert "\x1b[" not in out  # not a terminal: plain text


def test_show_json_and_a_corrupt_line_warning(
    one_run: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    with (one_run.root / RUN / "events.jsonl").open("ab") as f:
        f.write(b"garbage\n")
    code, out, err = cli(capsys, "runs", "show", RUN, "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "finished" and len(data["events"]) == 15
    assert data["corrupt_lines"] == [16] and data["solution"]["code"].startswith("def dedupe")
    assert data["solution"]["artifacts"][0]["file"] == "artifacts/plot.png"
    assert "warning: skipped 1 corrupted line(s)" in err and "line 16" in err


def test_colour_follows_the_terminal_and_no_color(
    one_run: RunStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, coloured, _ = cli(capsys, "runs", "show", RUN)
    assert "\x1b[32m" in coloured  # green for the verified verdict
    monkeypatch.setenv("NO_COLOR", "1")
    _, plain, _ = cli(capsys, "runs", "show", RUN)
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", plain)  # no foreground colours at all


@pytest.mark.parametrize("command", ["show", "tail", "export"])
def test_an_unknown_run_id_exits_2_with_one_line(
    one_run: RunStore, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, err = cli(capsys, "runs", command, "20260101-000000-a1b2c4")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "no run '20260101-000000-a1b2c4'" in err and f"closest: {RUN}" in err


def test_an_ambiguous_prefix_exits_2(one_run: RunStore, capsys: pytest.CaptureFixture[str]) -> None:
    record_sample(one_run, "20260101-000000-zzz999")
    code, _, err = cli(capsys, "runs", "show", "20260101")
    assert code == 2 and "matches 2 runs" in err


def test_export_md_is_a_readable_report(
    one_run: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "runs", "export", RUN, "--format", "md")
    assert code == 0
    assert out.startswith(f"# Run `{RUN}`\n")
    assert "| verdict | **verified** (confidence 0.93) |" in out
    assert "## Task" in out and "## Answer" in out and "## Timeline" in out
    assert "```python\ndef dedupe(xs):\n    seen = set()" in out  # the answer's code
    assert "  ```python\n  def dedupe(xs):\n      return sorted(set(xs))" in out  # a candidate
    assert "- `+2.96s` **verifier** `verdict`: verified · confidence 0.93" in out
    assert "  - counterexample: dedupe(\\[1, 0\\]) → \\[1, 0\\] (selected)" in out


def test_export_md_keeps_model_text_inert(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RunStore()
    with store.open_run("x", task=TASK) as writer:
        text = "<script>alert(1)</script> **bold** [link](http://e.vil)"
        writer(Event(run_id="x", seq=0, time=1.0, kind="message", data={"content": text}))
        code = "s = '```'\n````\n"
        writer(Event(run_id="x", seq=1, time=2.0, kind="candidate", data={"id": "c", "code": code}))
    _, out, _ = cli(capsys, "runs", "export", "x")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "\\*\\*bold\\*\\* \\[link\\](http://e.vil)" in out
    assert "  `````python\n  s = '```'\n  ````\n  `````" in out  # a fence the code cannot close


def test_export_jsonl_to_a_file(
    one_run: RunStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "events.jsonl"
    code, out, err = cli(capsys, "runs", "export", RUN, "-f", "jsonl", "-o", str(target))
    assert (code, out) == (0, "") and f"wrote {target} (jsonl" in err
    events = [Event.model_validate_json(line) for line in target.read_text().splitlines()]
    assert [e.seq for e in events] == list(range(15))
    code, _, err = cli(capsys, "runs", "export", RUN, "--format", "pdf")
    assert code == 2 and "'pdf' is not a format; choose one of: html, md, jsonl" in err
    code, _, err = cli(
        capsys, "runs", "export", RUN, "-o", str(tmp_path / "no" / "such" / "dir.md")
    )
    assert code == 2 and "cannot write" in err


def test_export_html_goes_through_the_report(
    one_run: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "runs", "export", RUN, "--format", "html")
    assert code == 0 and out.startswith("<!DOCTYPE html>") and RUN in out


def test_tail_prints_a_finished_run_and_ends(
    one_run: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "runs", "tail", RUN)
    assert code == 0 and f"following run {RUN}" in err
    assert len(out.splitlines()) >= 15 and "run_finished" in out.splitlines()[-1]
    code, out, _ = cli(capsys, "runs", "tail", RUN, "--json")
    assert [json.loads(line)["seq"] for line in out.splitlines()] == list(range(15))


def test_tail_of_an_aborted_run_says_how_it_ended(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RunStore()
    writer = store.open_run("a", task=TASK)
    write_events(writer, "a", upto=2)
    writer.abort("crashed")
    code, out, err = cli(capsys, "runs", "tail", "a")
    assert code == 0 and len(out.splitlines()) >= 2
    assert "the run ended without finishing: failed" in err


def test_ctrl_c_in_tail_exits_130_quietly(
    one_run: RunStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: RunStore, run_id: str, **kwargs: object) -> object:
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(RunStore, "follow", interrupted)
    code, _, err = cli(capsys, "runs", "tail", RUN)
    assert code == 130 and "Traceback" not in err and "aborted" not in err


def test_reindex_and_runs_dir_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = RunStore(tmp_path / "elsewhere")
    record_sample(store, RUN)
    (store.root / "index.sqlite").unlink()
    code, _, err = cli(capsys, "runs", "--runs-dir", str(store.root), "reindex")
    assert code == 0 and f"indexed 1 run(s) in {store.root}" in err
    code, out, _ = cli(capsys, "runs", "--runs-dir", str(store.root), "reindex", "--json")
    assert json.loads(out) == {"root": str(store.root), "runs": 1}


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(("runs", "--runs-dir", "{root}", "list", "--json"), id="before"),
        pytest.param(("runs", "list", "--json", "--runs-dir", "{root}"), id="after-as-in-solve"),
        pytest.param(("runs", "--dir", "{root}", "list", "--json"), id="old-spelling"),
    ],
)
def test_the_runs_folder_is_runs_dir_as_for_solve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: tuple[str, ...]
) -> None:
    store = RunStore(tmp_path / "elsewhere")
    record_sample(store, RUN)
    code, out, _ = cli(capsys, *(arg.format(root=store.root) for arg in where))
    assert code == 0 and json.loads(out)[0]["run_id"] == RUN


def test_help_names_runs_dir_and_not_the_old_spelling(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["runs"], ["runs", "show"], ["runs", "export"], ["solve"]):
        code, out, _ = cli(capsys, *command, "--help")
        assert code == 0 and "--runs-dir" in out and "--dir " not in out, command


def test_latest_names_the_newest_run(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    store = RunStore()
    newer = "20260102-000000-ffffff"
    record_sample(store, RUN)
    record_sample(store, newer, t0=1_767_312_000.0)
    code, out, _ = cli(capsys, "runs", "show", "latest")
    assert code == 0 and f"run      {newer} · finished" in out
    code, out, _ = cli(capsys, "runs", "export", "latest", "-f", "md")
    assert code == 0 and out.startswith(f"# Run `{newer}`")
    code, out, _ = cli(capsys, "runs", "tail", "latest", "--json")
    assert code == 0 and {json.loads(line)["run_id"] for line in out.splitlines()} == {newer}


def test_latest_in_an_empty_folder_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "none"
    code, out, err = cli(capsys, "runs", "show", "latest", "--runs-dir", str(empty))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"no runs in {empty} yet, so there is no latest one" in err


def test_export_help_names_every_format(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = cli(capsys, "runs", "export", "--help")
    assert code == 0
    summary = out.split("╭")[0]  # the command's own text, above the option panels
    assert "HTML report (html" in summary and "(md)" in summary and "(jsonl)" in summary
    code, out, _ = cli(capsys, "runs", "--help")
    assert re.search(r"export\s+Export a run: a self-contained HTML report", out)


# A job's or a model's text that a terminal would obey: clear the screen, home the cursor, set
# the window title (OSC, ended by BEL and by ST), overwrite with CR and backspace, a C1 CSI, and
# bidi overrides and isolates that reorder what is shown.
HOSTILE = (
    "\u202eevil\u202c\u2066iso\u2069\x9b31m\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]2;again\x1b\\"
    "bs\x08\x08X ok\rhidden"
)
SHOWN = (  # how the part before the CR reads on the terminal (the timeline clips what follows)
    "\\u202eevil\\u202c\\u2066iso\\u2069\\x9b31m\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07"
    "\\x1b]2;again\\x1b\\bs\\x08\\x08X ok"
)
RAW_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def hostile_run(store: RunStore, run_id: str) -> None:
    task = TASK.model_copy(update={"prompt": "Write dedupe(xs). " + HOSTILE})
    with store.open_run(run_id, task=task, models={"coder": "m" + HOSTILE}) as writer:
        events = [
            ("message", "coder1", {"type": "TextMessage", "content": HOSTILE}),
            ("error", "coder2", {"type": "ModelCallError", "message": HOSTILE}),
            ("execution", "executor",
             {"candidate": "c1.0", "final": True, "exit_code": 0, "stdout": HOSTILE + "\n",
              "stderr": HOSTILE, "result": None, "error": None, "artifacts": []}),
        ]  # fmt: skip
        for seq, (kind, agent, data) in enumerate(events):
            writer(Event(run_id=run_id, seq=seq, time=T0 + seq, kind=kind, agent=agent, data=data))


def test_show_and_tail_never_pass_a_jobs_control_characters_through(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # room for the whole text on one line
    hostile_run(RunStore(), "h")
    for command in ("show", "tail"):
        code, out, _ = cli(capsys, "runs", command, "h")
        assert code == 0
        assert not RAW_CONTROL.search(out), (command, out)
        assert SHOWN in out, command  # shown, not dropped: each one a visible escape, in order
    code, out, _ = cli(capsys, "runs", "list")
    assert code == 0 and not RAW_CONTROL.search(out) and "\\u202eevil" in out
    code, out, _ = cli(capsys, "runs", "show", "h", "--json")  # exact, and still inert
    assert not RAW_CONTROL.search(out)
    assert json.loads(out)["events"][0]["data"]["content"] == HOSTILE


def test_export_to_a_terminal_is_inert_and_to_a_pipe_exact(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_run(RunStore(), "h")
    _, piped, _ = cli(capsys, "runs", "export", "h", "-f", "md")
    assert HOSTILE.split("\r", maxsplit=1)[0] in piped  # a pipe or a file gets what was written
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _, shown, _ = cli(capsys, "runs", "export", "h", "-f", "md")
    assert not RAW_CONTROL.search(shown) and SHOWN in shown


def test_show_of_a_live_run_counts_its_events_so_far(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RunStore()
    with store.open_run("live", task=TASK) as writer:
        write_events(writer, "live", upto=5)
        code, out, _ = cli(capsys, "runs", "show", "live")
        assert code == 0 and "live · running" in out and "· running" in out
        assert "usage    1 model call · 412 in / 188 out tokens · $0.0002" in out
        code, out, _ = cli(capsys, "runs", "list", "--status", "running", "--json")
        assert json.loads(out)[0]["totals"]["model_calls"] == 1  # counted from the events


def test_runs_alone_prints_help(runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "runs")
    assert code == 0 and "list" in out and "show" in out and "tail" in out and "export" in out
