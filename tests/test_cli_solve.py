"""`mcodeact config`, `solve` and `run` end to end through the console-script entry point, with
model replies scripted on loopback and every candidate run in the real sandbox."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from multiagent_codeact.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SINE = [
    str(EXAMPLES / "sine_wave.yaml"),
    "--scripted",
    str(EXAMPLES / "scripted" / "sine_wave.yaml"),
]
COLOR = re.compile(r"\x1b\[(?:3[0-9]|9[0-7]|38;)")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `mcodeact ARGS` in-process through the console-script entry point."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, out, err


@pytest.fixture(autouse=True)
def _no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing may reach a real model: scripted runs must not need one configured."""
    for name in ("MCODEACT_MODEL", "MCODEACT_BASE_URL", "OPENAI_API_KEY", "MCODEACT_RUNS_DIR"):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- config validate / schema -----------------------------------------------------------------
def test_validate_prints_a_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "config", "validate", str(EXAMPLES / "longest_run.yaml"))
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    assert "longest_run.yaml: valid pipeline (version 1): 1 task, model gpt-4o-mini" in out


def test_validate_reports_each_problem_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "p.yaml", "version: 1\ncandidatse: 3\nrepair_rounds: 99\n")
    code, out, err = cli(capsys, "config", "validate", bad)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"mcodeact: error: {bad}:2: candidatse: unknown key; did you mean 'candidates'?",
        f"mcodeact: error: {bad}:3: repair_rounds: Input should be less than or equal to 10 "
        "(got 99)",
    ]


def test_validate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "config", "validate", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert err == f"mcodeact: error: {tmp_path / 'nope.yaml'}: no such pipeline file\n"


def test_schema_is_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "config", "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == "mcodeact pipeline" and "tasks" in schema["properties"]


# -- run ------------------------------------------------------------------------------------
def test_run_an_example_offline_with_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    code, out, err = cli(capsys, "run", *SINE, "--json", "--runs-dir", str(runs))
    assert code == 0, err
    [solution] = json.loads(out)  # stdout is JSON only: a list, one per task
    assert solution["verdict"] == "verified"
    assert solution["result"] == {"x_min": 0.0, "x_max": 6.283, "y_min": -1.0, "y_max": 1.0}
    assert solution["judge"].startswith("It plots sin(x)")
    [png] = solution["artifacts"]
    assert set(png) == {"name", "mime_type", "size", "path"}  # names and sizes, never bytes
    assert png["name"] == "sine_wave.png" and png["mime_type"] == "image/png"
    assert Path(png["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(png["path"]).stat().st_size == png["size"]
    folder = runs / solution["run_id"]
    assert Path(solution["run_dir"]) == folder
    assert json.loads((folder / "run.json").read_text())["status"] == "finished"
    kinds = [
        json.loads(line)["kind"] for line in (folder / "events.jsonl").read_text().splitlines()
    ]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished" and "repair" in kinds
    # The notice that replies are scripted, the task's line, and where to look next.
    assert "model replies are SCRIPTED" in err
    assert "✓ sine-wave  verified" in err
    next_step = f"mcodeact runs show {solution['run_id']} --runs-dir {runs}"
    assert next_step in err
    # The command it prints works as printed, and `latest` names the same run.
    for shown in (next_step.split()[1:], ["runs", "show", "latest", "--runs-dir", str(runs)]):
        code, timeline, _ = cli(capsys, *shown)
        assert code == 0 and f"run      {solution['run_id']} · finished" in timeline


def test_run_prints_the_solution_for_people(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default runs folder is ./.mcodeact/runs
    code, out, _ = cli(capsys, "run", *SINE)
    assert code == 0
    assert out.startswith("✓ verified (confidence ")
    assert "np.sin(x)" in out and 'result: {"x_min": 0.0' in out
    run_id = re.search(r"next: mcodeact runs show (\S+)", out)
    assert run_id is not None
    assert (tmp_path / ".mcodeact" / "runs" / run_id.group(1) / "run.json").is_file()
    assert re.search(r"artifact: sine_wave\.png \(image/png, [\d,]+ bytes\) -> ", out)


def test_run_several_tasks_some_unverified_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = write(
        tmp_path,
        "p.yaml",
        "version: 1\ncandidates: 2\nrepair_rounds: 0\ntest_designer: false\n"
        "tasks:\n  - id: power\n    prompt: What is 2**100?\n"
        "  - id: choose\n    prompt: How many ways are there to choose 12 items out of 30?\n",
    )
    script = write(
        tmp_path,
        "s.yaml",
        """\
rules:
  - role: coder
    match: 2\\*\\*100
    replies: ["```python\\nresult = 2**100\\n```"]
  - role: coder
    match: choose 12
    replies:  # one right, one wrong: the verifier cannot tell which
      - "```python\\nimport math\\nresult = math.comb(30, 12)\\n```"
      - "```python\\nresult = 30 * 29 // 2\\n```"
""",
    )
    runs = tmp_path / "runs"
    code, out, err = cli(capsys, "run", pipeline, "--scripted", script, "--runs-dir", str(runs))
    assert code == 1, err
    assert "choose: disputed:" in out
    table = out[out.index("task ") :]
    assert re.search(r"power +\w+ +[\d.]+ .* 20\d{6}-\d{6}-\w{6}", table)
    assert len(list(runs.glob("*/run.json"))) == 2
    assert "2 runs recorded in" in out


def test_run_a_pipeline_without_tasks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = write(tmp_path, "p.yaml", "version: 1\ncandidates: 2\n")
    code, out, err = cli(capsys, "run", pipeline)
    assert code == 2 and out == ""
    assert err.startswith(f"mcodeact: error: {pipeline}: no tasks to run; add 'tasks:'")
    assert err.count("\n") == 1


def test_run_a_bad_pipeline_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = write(tmp_path, "p.yaml", "version: 1\ncandidates: [1\n")
    code, out, err = cli(capsys, "run", pipeline, "--scripted", SINE[2])
    assert code == 2 and out == ""
    assert err == (
        f"mcodeact: error: {pipeline}:3:1: invalid YAML: expected ',' or ']', but got the end "
        "of the file (in the flow sequence '[' that opened on line 2, column 13)\n"
    )


def test_a_bad_script_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = write(tmp_path, "s.yaml", "rules: [{role: coder}]\n")
    code, _, err = cli(capsys, "run", SINE[0], "--scripted", script)
    assert code == 2
    assert err.startswith(f"mcodeact: error: {script}: invalid script: rules[0].replies")
    assert err.count("\n") == 1


# -- solve ----------------------------------------------------------------------------------
def test_solve_a_function_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompt = (EXAMPLES / "longest_run.yaml").read_text().split("prompt: |\n", 1)[1]
    task = "\n".join(line[6:] for line in prompt.splitlines())
    code, out, err = cli(
        capsys,
        "solve",
        task,
        "--scripted",
        str(EXAMPLES / "scripted" / "longest_run.yaml"),
        "--candidates",
        "3",
        "--rounds",
        "1",
        "--json",
        "--runs-dir",
        str(tmp_path),
    )
    assert code == 0, err
    solution = json.loads(out)  # one object for solve
    assert solution["verdict"] == "verified"
    assert solution["task"]["entry_point"] == "longest_increasing_run"
    assert "def longest_increasing_run" in solution["code"]
    assert set(solution["usage"]) == {"coder1", "coder2", "coder3", "test_designer"}
    manifest = json.loads((tmp_path / solution["run_id"] / "run.json").read_text())
    assert manifest["config"]["candidates"] == 3 and manifest["config"]["repair_rounds"] == 1


QUADRATIC = """\
def count_pairs(xs):
    out = 0
    for i in range(len(xs)):
        for j in range(i):
            if xs[i] == xs[j]:
                out += 1
    return out
"""
QUADRATIC_2 = """\
def count_pairs(xs):
    return sum(1 for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[i] == xs[j])
"""
LINEAR = """\
from collections import Counter

def count_pairs(xs):
    return sum(c * (c - 1) // 2 for c in Counter(xs).values())
"""
WRONG = "def count_pairs(xs):\n    return len(xs) - len(set(xs))\n"
COUNT_PAIRS = {
    "version": 1,
    "candidates": 2,
    "repair_rounds": 0,
    "test_designer": False,
    # Quick timings; `--optimize` alone switches the optimizer on.
    "optimizer": {"stop_s": 0.02, "call_timeout_s": 0.5, "repeats": 5, "max_rewrites": 3},
    "tasks": [
        {
            "id": "count-pairs",
            "entry_point": "count_pairs",
            "prompt": "Write a function `def count_pairs(xs: list[int]) -> int` that counts the "
            "pairs i < j with xs[i] == xs[j].",
            "examples": [
                "assert count_pairs([1, 1, 2]) == 1",
                "assert count_pairs([]) == 0",
                "assert count_pairs([3, 3, 3]) == 3",
            ],
        }
    ],
}


def code_reply(code: str) -> str:
    return f"## Explanation\nHere it is.\n\n## Code\n```python\n{code}```\n"


def test_run_with_optimize_keeps_a_faster_rewrite_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # JSON is YAML: the pipeline and the script are written as JSON to keep the code exact.
    pipeline = write(tmp_path, "p.yaml", json.dumps(COUNT_PAIRS))
    script = {
        "rules": [
            # Two independent (different) quadratic implementations: verified, then optimized.
            {"role": "coder", "replies": [code_reply(QUADRATIC), code_reply(QUADRATIC_2)]},
            # The optimizer's prompt carries [role: optimizer]: a wrong rewrite, then a right one.
            {"role": "optimizer", "replies": [code_reply(WRONG), code_reply(LINEAR)]},
        ]
    }
    scripted = write(tmp_path, "s.yaml", json.dumps(script))
    runs = tmp_path / "runs"
    args = ["run", pipeline, "--scripted", scripted, "--runs-dir", str(runs), "--optimize"]
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("optimized "))
    assert re.fullmatch(
        r"optimized [\d.]+x faster \([\d.]+ (ms|µs|s) -> [\d.]+ (ms|µs|s)\); "
        r"1 rewrite rejected: test: .+",
        line,
    ), line
    assert "Counter(xs)" in out  # the rewrite is the code shown
    [folder] = [d for d in runs.iterdir() if d.is_dir()]
    kinds = [json.loads(x)["kind"] for x in (folder / "events.jsonl").read_text().splitlines()]
    assert kinds.count("optimization") == 3  # two rewrites tried, then the outcome
    solution = json.loads((folder / "solution.json").read_text())
    assert solution["optimization"]["status"] == "accepted"
    assert [r["kind"] for r in solution["optimization"]["rejected"]] == ["test"]
    # Without the flag the file's optimizer stays off: no optimizer model call is made.
    code, out, err = cli(capsys, "run", pipeline, "--scripted", scripted, "--runs-dir", str(runs))
    assert code == 0, err
    assert "optimized" not in out and "Counter" not in out and "for j in range(i" in out


def test_optimize_is_an_option_of_solve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    assert "--optimize" in capsys.readouterr().out


def test_the_optimization_line_when_the_original_stays() -> None:
    from multiagent_codeact.optimize import OptimizationReport, Rejection
    from multiagent_codeact.solve_output import optimization_line

    slower = Rejection(attempt=1, kind="slower", reason="1.02x faster, within the noise")
    hangs = Rejection(attempt=2, kind="hangs", reason="timed out on the input of size 4096")
    rejected = OptimizationReport(
        status="rejected",
        reason="no rewrite passed every check (2 rejected); the original stays",
        rejected=[slower, hangs],
    )
    assert optimization_line(rejected) == (
        "not optimized: no rewrite passed every check (2 rejected); the original stays; "
        "2 rewrites rejected: slower: 1.02x faster, within the noise; "
        "hangs: timed out on the input of size 4096"
    )
    fast = OptimizationReport(status="already_fast", reason="already fast: 0.0001 s")
    assert optimization_line(fast) == "not optimized: already fast: 0.0001 s"
    failed = OptimizationReport(status="failed", reason="the model failed: HTTP 500")
    assert optimization_line(failed) == "not optimized: failed: the model failed: HTTP 500"


def test_solve_without_a_model_explains_how_to_set_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = cli(capsys, "solve", "What is 2**100?", "--runs-dir", str(tmp_path))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "mcodeact: error: No model is configured ($MCODEACT_MODEL is not set)."
    assert "Set up a model in one of these ways:" in err
    assert any(line.strip().startswith("Ollama: export MCODEACT_MODEL=") for line in lines)
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing was recorded for a run that never started


def test_solve_with_a_model_but_no_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "solve", "What is 2**100?", "--model", "gpt-4o-mini")
    assert code == 2
    assert "the environment variable OPENAI_API_KEY is not set" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--candidates", "0"], "Invalid value for --candidates: Input should be greater than"),
        (["--rounds", "11"], "Invalid value for --rounds: Input should be less than or equal"),
        (["--base-url", "localhost:1"], "Invalid value for --base-url: a model name is needed"),
        (
            ["--model", "m", "--base-url", "localhost:1"],
            "Invalid value for --base-url: base_url must start with http:// or https://",
        ),
        (["--model", "m", "--scripted", "x.yaml"], "--scripted answers every model call itself"),
        (["--config", "nope.yaml"], "nope.yaml: no such pipeline file"),
    ],
)
def test_solve_bad_options_are_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = cli(capsys, "solve", "What is 2**100?", *args)
    assert code == 2 and out == ""
    assert message in err
    assert err.count("\n") == 1


def test_solve_an_empty_task_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "solve", "  ", "--scripted", SINE[2])
    assert code == 2 and "the task is empty" in err


def test_no_color_is_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # as if on a terminal...
    monkeypatch.setenv("NO_COLOR", "1")  # ...that asks for no colour
    code, out, err = cli(capsys, "run", *SINE, "--runs-dir", str(tmp_path))
    assert code == 0
    assert "verified" in out
    assert not COLOR.search(out) and not COLOR.search(err)


def test_progress_phases_follow_the_events() -> None:
    from multiagent_codeact.events import Recorder
    from multiagent_codeact.progress import TaskProgress

    watcher = TaskProgress("t", candidates=3)
    rec = Recorder("r1", [watcher])
    phases = []

    def emit(kind: str, agent: str | None = None, **data: object) -> None:
        rec.emit(kind, agent, **data)  # type: ignore[arg-type]
        phases.append(watcher.phase)

    emit("run_started")
    emit("model_call", "coder1", prompt_tokens=100, completion_tokens=20)
    emit("candidate", "coder1", round=0)
    emit("error", "coder2", type="ModelCallError", message="500")
    emit("candidate", "coder3", round=0)
    emit("verdict", "verifier", verdict="disputed", confidence=0.55)
    emit("repair", "coder2")
    emit("candidate", "coder2", round=1)
    emit("verdict", "verifier", verdict="verified", confidence=0.9)
    emit("execution", "executor", final=True)
    emit("run_finished", verdict="verified")
    assert phases == [
        "coders 0/3 answered",
        "coders 0/3 answered",
        "coders 1/3 answered",
        "coders 2/3 answered",
        "verifying",
        "round 1: disputed (0.55)",
        "repair round 1: 0/1 answered",
        "verifying repair round 1",
        "round 2: verified (0.90); running it",
        "finishing",
        "verified",
    ]
    assert watcher.run_id == "r1" and watcher.tokens == 120 and watcher.done
