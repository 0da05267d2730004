"""The tasks of a batch: HumanEval/MBPP-style JSONL rows, or a YAML pipeline file's `tasks:`.

A JSONL row is one JSON object per line:

    {"task_id": "HumanEval/0", "prompt": "def f(x):\\n    ...", "entry_point": "f",
     "test": "def check(candidate):\\n    assert candidate(1) == 2", "canonical_solution": "..."}

`task_id` and `prompt` are required; `entry_point` is read from the prompt when absent; `test`
is the row's hidden test, never shown to the pipeline, run against the chosen code afterwards
(`check(entry_point)` is called when it defines `check`); `examples` (assert lines) are given
to the pipeline as trusted examples; other keys (`canonical_solution`, HumanEval+'s inputs)
are ignored. A YAML file is a pipeline file (`version: 1`, settings, `tasks:`): its settings
come with it, and a task without an `id` is called `task-N` by its place in the list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import PipelineConfig
from ..domain import Task
from ..errors import InputFileError

__all__ = ["BatchTask", "TaskFile", "load_tasks"]

YAML_SUFFIXES = (".yaml", ".yml")


class BatchTask(BaseModel):
    """One task of a batch, with the hidden test the pipeline never sees (None: no test)."""

    model_config = ConfigDict(frozen=True)

    task: Task
    hidden_test: str | None = None

    @property
    def id(self) -> str:
        assert self.task.id is not None  # load_tasks names every task
        return self.task.id


@dataclass(frozen=True)
class TaskFile:
    """The tasks read from a file, and the settings it holds (a YAML pipeline file's)."""

    path: Path
    tasks: list[BatchTask]
    config: PipelineConfig | None = None


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task_id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    entry_point: str | None = None
    test: str | None = None
    examples: list[str] = Field(default_factory=list)


def load_tasks(path: str | Path) -> TaskFile:
    """Read a task file: `.yaml`/`.yml` as a pipeline file, anything else as JSONL rows.

    Raises InputFileError naming the file and line for a missing file, a malformed row, a
    duplicate task id or a file without tasks.
    """
    file = Path(path)
    if file.suffix.lower() in YAML_SUFFIXES:
        return _from_pipeline(file)
    return TaskFile(path=file, tasks=_from_jsonl(file))


def _from_pipeline(file: Path) -> TaskFile:
    from ..pipeline_file import load_pipeline

    pipeline = load_pipeline(file)
    if not pipeline.tasks:
        raise InputFileError(
            f"{file}: no tasks to run; add 'tasks:' with one task per item "
            "(text, or a mapping with prompt, entry_point, examples, tests, id)"
        )
    tasks = [
        BatchTask(task=t if t.id else t.model_copy(update={"id": f"task-{i}"}))
        for i, t in enumerate(pipeline.tasks, start=1)
    ]
    _check_unique(file, [(t.id, i) for i, t in enumerate(tasks, start=1)], what="task")
    return TaskFile(path=file, tasks=tasks, config=pipeline.config)


def _from_jsonl(file: Path) -> list[BatchTask]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{file}: no such task file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{file}: cannot read the task file: {exc}") from None
    tasks: list[BatchTask] = []
    lines: list[tuple[str, int]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            tasks.append(_parse_row(file, lineno, line))
            lines.append((tasks[-1].id, lineno))
    if not tasks:
        raise InputFileError(
            f"{file}: no tasks in the file; expected one JSON object per line with "
            "task_id and prompt (and entry_point, test)"
        )
    _check_unique(file, lines, what="line")
    return tasks


def _parse_row(file: Path, lineno: int, line: str) -> BatchTask:
    where = f"{file}:{lineno}"
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise InputFileError(
            f"{where}: expected a JSON object with task_id and prompt, got {type(raw).__name__}"
        )
    try:
        row = _Row.model_validate(raw)
        task = Task(
            prompt=row.prompt,
            entry_point=row.entry_point or _entry_point(row.prompt),
            examples=row.examples,
            id=row.task_id,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "the row"
        raise InputFileError(f"{where}: {key}: {first['msg']}") from None
    test = row.test if row.test and row.test.strip() else None
    return BatchTask(task=task, hidden_test=test)


def _entry_point(prompt: str) -> str | None:
    from ..task_text import entry_point_in

    return entry_point_in(prompt)


def _check_unique(file: Path, ids: list[tuple[str, int]], *, what: str) -> None:
    """Ids key the results file (resume skips them): each must name one task."""
    seen: dict[str, int] = {}
    for task_id, place in ids:
        if task_id in seen:
            raise InputFileError(
                f"{file}: {what} {place}: duplicate task id {task_id!r} (first at {what} "
                f"{seen[task_id]}); every task needs its own id, the results are keyed on it"
            )
        seen[task_id] = place
