"""A task's input files end to end: `Task(files=)`, `--file`, and `files:` in YAML, through the
real sandbox and the real openai client against a scripted server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from multiagent_codeact import Task
from multiagent_codeact.cli import main
from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.errors import InputFileError
from multiagent_codeact.events import Event
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.pipeline import asolve
from multiagent_codeact.pipeline_file import load_pipeline
from multiagent_codeact.runlog import RunStore
from multiagent_codeact.runlog.export import to_html
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import Reply, Rule, Script, ScriptedModelServer

KEY_ENV = "MCA_INPUTS_KEY"
SALES = (
    "region,product,units,unit_price\n"
    "north,widget,12,2.50\n"
    "South ,widget,7,2.50\n"
    "north,gadget,3,10.00\n"
    "north,gadget,3,10.00\n"  # a duplicate row the task says to drop
    "south,gizmo,5,4.25\n"
    "east,gadget,,10.00\n"  # no units: dropped
)
PROMPT = (
    "sales.csv holds sales. Drop duplicate rows and rows without units, normalise region names "
    "(trim, lower case), write the cleaned rows to clean.csv, plot revenue per region, and set "
    "`result` to a dict of region -> revenue (units * unit_price, rounded to 2 decimals)."
)
WITH_PANDAS = """import pandas as pd
import matplotlib.pyplot as plt

df = pd.read_csv("sales.csv")
df["region"] = df["region"].str.strip().str.lower()
df = df.dropna(subset=["units"]).drop_duplicates()
df.to_csv("clean.csv", index=False)
revenue = (df["units"] * df["unit_price"]).groupby(df["region"]).sum().round(2)
revenue.plot.bar(title="revenue per region")
result = {region: float(value) for region, value in revenue.items()}
"""
WITH_CSV = """import csv

seen, rows, revenue = set(), [], {}
with open("sales.csv", newline="") as f:
    for row in csv.DictReader(f):
        row["region"] = row["region"].strip().lower()
        key = tuple(row.values())
        if not row["units"] or key in seen:
            continue
        seen.add(key)
        rows.append(row)
        revenue[row["region"]] = revenue.get(row["region"], 0) + int(row["units"]) * float(
            row["unit_price"]
        )
with open("clean.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
result = {region: round(total, 2) for region, total in revenue.items()}
"""
WITH_SPLIT = """lines = open("sales.csv").read().splitlines()
header, kept = lines[0], []
for line in lines[1:]:
    region, product, units, price = line.split(",")
    line = ",".join([region.strip().lower(), product, units, price])
    if units and line not in kept:
        kept.append(line)
open("clean.csv", "w").write("\\n".join([header, *kept]) + "\\n")
totals = {}
for line in kept:
    region, _, units, price = line.split(",")
    totals[region] = totals.get(region, 0.0) + int(units) * float(price)
result = {r: round(v, 2) for r, v in totals.items()}
"""
EXPECTED = {"north": 60.0, "south": 38.75}


def reply(code: str) -> str:
    return f"## Explanation\nRead the file.\n\n## Code\n```python\n{code}```\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=30), pool_size=2) as sb:
        yield sb


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-inputs-0a1b2c3d4e5f")


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "sales.csv"
    path.parent.mkdir()
    path.write_text(SALES)
    return path


def script() -> Script:
    return Script(
        [
            Rule(
                role="coder",
                replies=[
                    Reply(content=reply(code)) for code in (WITH_PANDAS, WITH_CSV, WITH_SPLIT)
                ],
            )
        ]
    )


def config_for(server: ScriptedModelServer) -> PipelineConfig:
    model = ModelConfig(
        model="scripted-model", base_url=server.base_url, api_key_env=KEY_ENV, max_retries=0
    )
    return PipelineConfig(model=model, candidates=3, repair_rounds=0, test_designer=False)


async def test_the_coders_are_told_of_the_file_and_its_outputs_come_back(
    sandbox: Sandbox, sales: Path, tmp_path: Path, key: None
) -> None:
    events: list[Event] = []
    store = RunStore(tmp_path / "runs")
    async with ScriptedModelServer(script()) as server:
        solution = await asolve(
            Task(prompt=PROMPT, files=[sales]),
            config=config_for(server),
            sandbox=sandbox,
            sinks=[events.append],
            store=store,
        )
        asked = [r.last_user for r in server.requests]
    # Each coder read the file's name, size and first lines, not just the prompt.
    assert len(asked) == 3
    for message in asked:
        assert "`sales.csv` (" in message and "region,product,units,unit_price" in message
    assert solution.verified, solution.reasons
    assert solution.result == EXPECTED
    names = sorted(a.name for a in solution.artifacts)
    assert names in (["clean.csv", "figure_1.png"], ["clean.csv"]), names
    clean = next(a for a in solution.artifacts if a.name == "clean.csv").data.decode()
    assert "South " not in clean and clean.count("north") == 2  # the duplicate is gone
    # The run log says which files the jobs were given, and keeps the outputs.
    (given,) = [e for e in events if e.kind == "input_files"]
    assert given.data["files"] == [{"name": "sales.csv", "size": len(SALES)}]
    record = store.get(solution.run_id)
    assert "clean.csv" in [a.name for a in record.artifacts]
    assert sales.read_text() == SALES
    # The report shows the cleaned table itself and which files the run was given.
    page = to_html(record, record.events())
    assert "<h3>clean.csv</h3>" in page and "<th>region</th>" in page and "<td>38.75" not in page
    assert "1 input file (" in page and "Input files, read-only in every job" in page


async def test_a_missing_file_ends_before_any_model_is_asked(
    sandbox: Sandbox, tmp_path: Path, key: None
) -> None:
    async with ScriptedModelServer(script()) as server:
        with pytest.raises(InputFileError, match="no such file or folder"):
            await asolve(
                Task(prompt=PROMPT, files=[tmp_path / "salse.csv"]),
                config=config_for(server),
                sandbox=sandbox,
            )
        assert server.requests == []


def test_cli_solve_with_a_missing_file_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    started = time.perf_counter()
    with pytest.raises(SystemExit) as exited:
        main(
            ["solve", PROMPT, "--file", str(tmp_path / "salse.csv"), "--model", "m",
             "--base-url", "http://127.0.0.1:9/v1", "--runs-dir", str(tmp_path / "runs")]
        )  # fmt: skip
    assert exited.value.code == 2
    assert time.perf_counter() - started < 10
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mcodeact: error: ") and "salse.csv" in line and "no such" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_yaml_files_are_relative_to_the_pipeline_file_and_run_from_the_cli(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sales: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = tmp_path / "data" / "report.yaml"
    pipeline.write_text(
        "version: 1\ncandidates: 3\nrepair_rounds: 0\ntest_designer: false\n"
        f"tasks:\n  - prompt: {json.dumps(PROMPT)}\n    files: [sales.csv]\n"
    )
    replies = tmp_path / "replies.yaml"
    replies.write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "role": "coder",
                        "replies": [reply(c) for c in (WITH_PANDAS, WITH_CSV, WITH_SPLIT)],
                    }
                ]
            }
        )
    )
    assert load_pipeline(pipeline).tasks[0].files == [sales]
    monkeypatch.chdir(tmp_path)  # elsewhere than the pipeline file
    runs = tmp_path / "runs"
    with pytest.raises(SystemExit) as exited:
        main(["run", str(pipeline), "--scripted", str(replies), "--runs-dir", str(runs), "--json"])
    out = capsys.readouterr().out
    assert exited.value.code == 0, out
    (solution,) = json.loads(out)
    assert solution["result"] == EXPECTED
    assert "clean.csv" in [a["name"] for a in solution["artifacts"]]


def test_cli_sandbox_run_with_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    program = tmp_path / "count.py"
    program.write_text("rows = open('sales.csv').read().splitlines()\nresult = len(rows)\n")
    (tmp_path / "sales.csv").write_text(SALES)
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "run", str(program), "--file", str(tmp_path / "sales.csv"), "--json"])
    assert exited.value.code == 0
    assert json.loads(capsys.readouterr().out)["result"] == len(SALES.splitlines())


async def test_verify_alone_gives_the_task_files_to_every_candidate(
    sandbox: Sandbox, sales: Path
) -> None:
    from multiagent_codeact import Candidate
    from multiagent_codeact.verify import averify

    task = Task(prompt=PROMPT, files=[sales])
    candidates = [Candidate(code=code) for code in (WITH_PANDAS, WITH_CSV, WITH_SPLIT)]
    report = await averify(task, candidates, sandbox=sandbox)
    assert report.verified, report.reasons
    assert all(c.status == "ok" for c in report.evidence.candidates)


def test_the_input_files_benchmark_prints_every_row() -> None:
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "input_files.py"
    done = subprocess.run(
        [sys.executable, str(script), "--jobs", "3", "--sizes-mb", "1", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {r["row"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {
        "stage 1 MB", "stage folder of 1,000 files", "job, no inputs", "job, 1 file",
        "job, folder + file", "job reads 10 MB",
    }  # fmt: skip
    assert all(r["median_ms"] > 0 for r in rows.values())
