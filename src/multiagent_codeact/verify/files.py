"""Tasks and candidates from files, for the CLI and scripts.

A task is a JSON object with the fields of `Task`. Candidates are a directory: each `NAME.py` is
one candidate's code, with its tests in `NAME.tests.py` and its explanation in `NAME.md` when
those exist; a `NAME.json` holds a whole `Candidate` instead. NAME becomes the candidate's id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..domain import Candidate, Task
from ..errors import InputFileError

TESTS_SUFFIX = ".tests.py"
M = TypeVar("M", bound=BaseModel)


def load_task(path: Path) -> Task:
    return _load_model(path, Task)


def load_candidates(directory: Path) -> list[Candidate]:
    if not directory.is_dir():
        raise InputFileError(f"{directory}: not a directory of candidates")
    candidates: list[Candidate] = []
    for path in sorted(directory.iterdir()):
        if path.name.endswith(TESTS_SUFFIX) or path.name.startswith("."):
            continue
        if path.suffix == ".json":
            data = _load_model(path, Candidate)
            candidates.append(
                data if "id" in _raw_keys(path) else data.model_copy(update={"id": path.stem})
            )
        elif path.suffix == ".py":
            candidates.append(
                Candidate(
                    id=path.stem,
                    code=_read(path),
                    tests=_read_optional(path.with_name(path.stem + TESTS_SUFFIX)),
                    explanation=_read_optional(path.with_suffix(".md")),
                    origin=str(path),
                )
            )
    if not candidates:
        raise InputFileError(
            f"{directory}: no candidates found (expected NAME.py files, with optional "
            f"NAME{TESTS_SUFFIX} and NAME.md, or NAME.json files)"
        )
    return candidates


def _load_model(path: Path, model: type[M]) -> M:
    text = _read(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise InputFileError(f"{path}: not a valid {model.__name__}: {problems}") from exc


def _raw_keys(path: Path) -> set[str]:
    data = json.loads(_read(path))
    return set(data) if isinstance(data, dict) else set()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read it: {exc}") from exc


def _read_optional(path: Path) -> str:
    return _read(path) if path.is_file() else ""
