"""The dataset loader: both file formats, hidden inputs, and errors that name file and line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from multiagent_codeact import Task
from multiagent_codeact.bench.humaneval import FLOAT_ATOL, load_problems
from multiagent_codeact.errors import DatasetError, MCAError

PROMPT = (
    'def add(a: int, b: int) -> int:\n    """Add two numbers.\n    >>> add(1, 2)\n    3\n    """\n'
)
TEST = (
    "\n\ndef check(candidate):\n"
    "    assert candidate(1, 2) == 3\n"
    "    assert candidate(-1, 1) == 0\n"
    "    assert candidate(1, 2) == 3\n"
    "    for x in range(3):\n"
    "        assert candidate(x, 0) == x\n"
)


def plain(task_id: str = "Demo/0", **extra: Any) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "prompt": PROMPT,
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": TEST,
        **extra,
    }


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_plain_humaneval_line(tmp_path: Path) -> None:
    (p,) = load_problems(write(tmp_path / "he.jsonl", [plain()]))
    assert p.task_id == "Demo/0" and p.entry_point == "add"
    assert p.base_input == [] and p.plus_input == [] and p.atol == 0.0 and p.contract == ""
    assert p.reference_code == PROMPT + "    return a + b\n"
    namespace: dict[str, Any] = {}
    exec(p.reference_code, namespace)
    assert namespace["add"](2, 3) == 5
    assert p.to_task() == Task(prompt=PROMPT, entry_point="add", id="Demo/0")
    # No base_input: the test's literal candidate(...) calls stand in, deduplicated, in order;
    # the call inside the loop has a non-literal argument and is left out.
    assert p.test_inputs() == [[1, 2], [-1, 1]]
    assert p.hidden_inputs() == [[1, 2], [-1, 1]]


def test_humaneval_plus_line(tmp_path: Path) -> None:
    row = plain(base_input=[[1, 2], [3, 4]], plus_input=[[5, 6]], atol=1e-4, contract="x")
    (p,) = load_problems(write(tmp_path / "plus.jsonl", [row]))
    assert p.base_input == [[1, 2], [3, 4]] and p.plus_input == [[5, 6]]
    assert p.hidden_inputs() == [[1, 2], [3, 4], [5, 6]]
    assert p.atol == 1e-4 and p.float_atol == 1e-4 and p.contract == "x"
    (q,) = load_problems(write(tmp_path / "plus0.jsonl", [plain(base_input=[[1, 2]], atol=0)]))
    assert q.float_atol == FLOAT_ATOL  # HumanEval+ still compares floats with 1e-6


def test_gzipped_file_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "he.jsonl.gz"
    body = json.dumps(plain("A/0")) + "\n\n" + json.dumps(plain("A/1")) + "\n"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(body)
    assert [p.task_id for p in load_problems(path)] == ["A/0", "A/1"]


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DatasetError, match="not found") as info:
        load_problems(missing)
    assert str(missing) in str(info.value)
    assert isinstance(info.value, MCAError) and isinstance(info.value, ValueError)
    with pytest.raises(DatasetError, match="is a directory"):
        load_problems(tmp_path)


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(plain()) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_problems(path)
    assert f"{path}:2:" in str(info.value) and "not valid JSON" in str(info.value)


def test_missing_field_names_line_task_and_field(tmp_path: Path) -> None:
    row = plain("Demo/7")
    del row["entry_point"]
    path = write(tmp_path / "he.jsonl", [plain(), row])
    with pytest.raises(DatasetError) as info:
        load_problems(path)
    message = str(info.value)
    assert f"{path}:2 (Demo/7)" in message and "entry_point" in message


def test_wrong_shapes_are_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r":1: expected a JSON object"):
        load_problems(write(tmp_path / "a.jsonl", [[1, 2]]))
    with pytest.raises(DatasetError, match=r":1 \(Demo/0\): field base_input\.0"):
        load_problems(write(tmp_path / "b.jsonl", [plain(base_input=[1, 2])]))
    with pytest.raises(DatasetError, match="duplicate task_id 'Demo/0' \\(first on line 1\\)"):
        load_problems(write(tmp_path / "c.jsonl", [plain(), plain()]))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no problems"):
        load_problems(empty)
