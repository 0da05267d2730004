"""HumanEval and HumanEval+ problems, loaded from their JSONL files.

Both files share task_id, prompt, entry_point, canonical_solution and test; HumanEval+ adds the
hidden inputs (`base_input`, `plus_input`: lists of argument lists), `atol` and `contract`.
"""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..domain import Task
from ..errors import DatasetError

FLOAT_ATOL = 1e-6
"""HumanEval+ compares float outputs with this tolerance when a problem's own `atol` is 0."""
FLOAT_RTOL = 1e-7
"""... and with this relative tolerance (numpy.allclose's, as HumanEval+ does)."""


class Problem(BaseModel):
    """One benchmark problem: the prompt a model sees, the reference and the hidden inputs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    task_id: str = Field(min_length=1)
    prompt: str
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    canonical_solution: str
    test: str = ""
    base_input: list[list[Any]] = Field(default_factory=list)
    plus_input: list[list[Any]] = Field(default_factory=list)
    atol: float = Field(0.0, ge=0)
    contract: str = ""

    @property
    def reference_code(self) -> str:
        """The prompt (signature, docstring, helpers) followed by the canonical body."""
        return self.prompt + self.canonical_solution

    @property
    def float_atol(self) -> float:
        """The absolute tolerance HumanEval+ applies to float outputs of this problem."""
        return self.atol if self.atol > 0 else FLOAT_ATOL

    def to_task(self) -> Task:
        return Task(prompt=self.prompt, entry_point=self.entry_point, id=self.task_id)

    def test_inputs(self) -> list[list[Any]]:
        """Argument lists of the literal `candidate(...)` calls in `test`.

        Plain HumanEval has no `base_input`; its `check` function is the only source of inputs.
        Calls whose arguments are not literals (computed in a loop, say) are left out.
        """
        try:
            tree = ast.parse(self.test)
        except SyntaxError:
            return []
        calls = sorted(
            (
                node
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "candidate"
                and not node.keywords
            ),
            key=lambda node: (node.lineno, node.col_offset),
        )
        found: list[list[Any]] = []
        for call in calls:
            try:
                args = [ast.literal_eval(a) for a in call.args]
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if args not in found:
                found.append(args)
        return found

    def hidden_inputs(self) -> list[list[Any]]:
        """What the hidden oracle judges by: base + plus inputs, or the test's literal calls."""
        if self.base_input or self.plus_input:
            return [*self.base_input, *self.plus_input]
        return self.test_inputs()


def load_problems(path: str | Path) -> list[Problem]:
    """Read HumanEval.jsonl or HumanEvalPlus-*.jsonl (optionally gzipped) into problems.

    Raises DatasetError naming the file (and the line) when the file is missing or a line is
    not a valid problem.
    """
    file = Path(path)
    if not file.is_file():
        what = "is a directory, not a file" if file.is_dir() else "not found"
        raise DatasetError(f"dataset {what}: {file}")
    try:
        if file.suffix == ".gz":
            with gzip.open(file, "rt", encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        else:
            lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DatasetError(f"{file}: cannot read: {exc}") from exc

    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        problem = _parse_line(file, lineno, line)
        if problem.task_id in seen:
            raise DatasetError(
                f"{file}:{lineno}: duplicate task_id {problem.task_id!r} "
                f"(first on line {seen[problem.task_id]})"
            )
        seen[problem.task_id] = lineno
        problems.append(problem)
    if not problems:
        raise DatasetError(f"{file}: no problems in the file")
    return problems


def _parse_line(file: Path, lineno: int, line: str) -> Problem:
    where = f"{file}:{lineno}"
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(raw, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    task = raw.get("task_id")
    if isinstance(task, str):
        where = f"{where} ({task})"
    try:
        return Problem.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in err['loc'][:3]) or '?'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
        raise DatasetError(f"{where}: {problems}") from exc
