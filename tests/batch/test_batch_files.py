"""Task files and the results file, on real files: what loads, what is refused and where, and
what a resume reads back after a crash (a torn last line is dropped, nothing else is)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from multiagent_codeact import Verdict
from multiagent_codeact.batch import BatchRow, ResultsFile, load_tasks
from multiagent_codeact.errors import InputFileError

from .conftest import SETTINGS, rows, write_jsonl, write_yaml


def row(task_id: str, verdict: Verdict | None = Verdict.VERIFIED) -> BatchRow:
    return BatchRow(
        task_id=task_id,
        verdict=verdict,
        seconds=1.0,
        run_id=f"run-{task_id}",
        finished_at=datetime.now(timezone.utc),
    )


# -- task files -----------------------------------------------------------------------------
def test_jsonl_rows_become_tasks_with_hidden_tests(tmp_path: Path) -> None:
    items = rows(2)
    items[1].pop("entry_point")  # read from the prompt's `def` then
    items[1]["examples"] = ["assert square(1) == 1"]
    loaded = load_tasks(write_jsonl(tmp_path / "t.jsonl", items))
    assert [t.id for t in loaded.tasks] == ["sq-1", "sq-2"]
    first, second = loaded.tasks
    assert first.task.entry_point == second.task.entry_point == "square"
    assert first.hidden_test is not None and "def check(candidate)" in first.hidden_test
    assert first.task.tests == "" and first.task.examples == []  # the pipeline never sees it
    assert second.task.examples == ["assert square(1) == 1"]
    assert loaded.config is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", ":2: not valid JSON: Expecting property name"),
        ('["a list"]', ":2: expected a JSON object with task_id and prompt, got list"),
        ('{"task_id": "x"}', ":2: prompt: Field required"),
        ('{"task_id": "x", "prompt": "p", "entry_point": "not a name"}', ":2: entry_point:"),
        ('{"task_id": "sq-1", "prompt": "again"}', ": line 2: duplicate task id 'sq-1'"),
    ],
)
def test_a_malformed_row_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(rows(1)[0]) + "\n" + line + "\n")
    with pytest.raises(InputFileError) as raised:
        load_tasks(path)
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_missing_and_empty_task_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such task file"):
        load_tasks(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(InputFileError, match="no tasks in the file"):
        load_tasks(tmp_path / "empty.jsonl")


def test_a_yaml_pipeline_file_brings_its_settings_and_names_its_tasks(tmp_path: Path) -> None:
    data = {**SETTINGS, "tasks": ["What is 2**10?", {"id": "sum", "prompt": "What is 1 + 1?"}]}
    loaded = load_tasks(write_yaml(tmp_path / "p.yaml", data))
    assert [t.id for t in loaded.tasks] == ["task-1", "sum"]
    assert all(t.hidden_test is None for t in loaded.tasks)
    assert loaded.config is not None and loaded.config.candidates == 2


# -- the results file -----------------------------------------------------------------------
def test_rows_are_appended_one_line_each_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "r.jsonl"
    with ResultsFile(path) as results:
        assert results.open(resume=False) == {}
        results.append_line(row("a").model_dump_json().encode() + b"\n")
        results.append_line(row("b", None).model_dump_json().encode() + b"\n")
    lines = path.read_text().splitlines()
    assert [json.loads(line)["task_id"] for line in lines] == ["a", "b"]
    with ResultsFile(path) as again:
        done = again.open(resume=True)
    assert set(done) == {"a", "b"} and done["b"].status == "error"


def test_an_existing_file_is_refused_without_resume(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(row("a").model_dump_json() + "\n")
    with ResultsFile(path) as results, pytest.raises(InputFileError, match="pass --resume"):
        results.open(resume=False)
    assert path.read_text().count("\n") == 1  # untouched


def test_a_torn_last_line_is_cut_off_so_its_task_runs_again(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    whole = row("a").model_dump_json() + "\n"
    torn = row("b").model_dump_json()[:40]  # a kill -9 in the middle of the write
    path.write_text(whole + torn)
    with ResultsFile(path) as results:
        assert set(results.open(resume=True)) == {"a"}
        assert results.torn
        results.append_line(row("b").model_dump_json().encode() + b"\n")
    assert [json.loads(x)["task_id"] for x in path.read_text().splitlines()] == ["a", "b"]


def test_a_bad_line_before_the_end_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(row("a").model_dump_json() + "\n{oops\n" + row("b").model_dump_json() + "\n")
    with ResultsFile(path) as results, pytest.raises(InputFileError) as raised:
        results.open(resume=True)
    assert str(raised.value).startswith(f"{path}:2: not a results row")


def test_a_second_writer_is_refused_while_the_first_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ResultsFile(path) as first:
        first.open(resume=True)
        with ResultsFile(path) as second, pytest.raises(InputFileError, match="another batch"):
            second.open(resume=True)
    with ResultsFile(path) as third:  # released when the first closed
        assert third.open(resume=True) == {}
