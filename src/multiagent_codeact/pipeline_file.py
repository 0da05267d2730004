"""Pipeline files: a `PipelineConfig` and its tasks in YAML, with errors that point at a line.

    version: 1                      # required: the file format, so later formats can be told apart
    model:
      model: ${MODEL:-gpt-4o-mini}  # ${VAR} and ${VAR:-default} from the environment
      api_key_env: OPENAI_API_KEY   # the NAME of the key's variable, never the key
    candidates: 4
    tasks:
      - Plot a sine wave using matplotlib and numpy
      - prompt: Write a function `def add(a, b)` that returns a + b.
        examples: ["assert add(2, 3) == 5"]

Every PipelineConfig field may appear at the top level; `tasks:` (a list) or `task:` (one) hold
tasks, each a string or a mapping with Task's fields. Unknown keys are rejected with the closest
valid one suggested. Every error is an `InputFileError` whose lines read `FILE:LINE: key.path:
what was expected`. `PipelineFile.dump()` writes the file back as written, `${VAR}` references
and all, so a value read from the environment (a token in a URL) is never written out.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from pydantic_core import ErrorDetails

from .config import PipelineConfig
from .domain import Task
from .errors import InputFileError
from .yaml_tree import KeyPath, YamlTree, format_path, parse_yaml, read_text

__all__ = [
    "FORMAT_VERSION",
    "PipelineFile",
    "PipelineFileError",
    "load_pipeline",
    "parse_pipeline",
    "pipeline_json_schema",
]

FORMAT_VERSION = 1
MAX_PROBLEMS = 10
_TASK_KEYS = ("task", "tasks")


def _task_entry(value: Any) -> Any:
    """Text becomes a Task as `solve("...")` would read it; a mapping without an entry_point
    gets the one its prompt names (`def f(`), like text does."""
    from .pipeline import as_task  # the orchestration pulls in the agents: import on use

    if isinstance(value, str):
        return as_task(value)
    if (
        isinstance(value, dict)
        and "entry_point" not in value
        and isinstance(value.get("prompt"), str)
    ):
        found = as_task(value["prompt"]).entry_point if value["prompt"].strip() else None
        return {**value, "entry_point": found} if found else value
    return value


TaskEntry = Annotated[Task, BeforeValidator(_task_entry, json_schema_input_type=Task | str)]


class PipelineFileSchema(PipelineConfig):
    """What a pipeline file holds: the pipeline's settings, then its tasks."""

    version: Literal[1] = Field(description="the pipeline file format; this release reads 1")
    tasks: list[TaskEntry] = Field(
        default_factory=list,
        description="tasks to solve, in order: text, or a mapping with prompt, entry_point, "
        "examples, tests, files (relative to this file), limits, id",
    )
    task: TaskEntry | None = Field(None, description="a single task; instead of `tasks`")


class PipelineFileError(InputFileError):
    """A pipeline file cannot be used; `problems` holds one `FILE:LINE: key: message` each."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
        super().__init__("\n".join(shown))
        self.problems = problems


@dataclass(frozen=True)
class PipelineFile:
    """A loaded pipeline: validated settings and tasks, plus the file as written for `dump`."""

    path: Path
    config: PipelineConfig
    tasks: list[Task]
    source: dict[str, Any]
    """The file's content before interpolation: `${VAR}` references, not their values."""

    def dump(self) -> str:
        """The pipeline as YAML, with `${VAR}` references as written (secrets never expanded)."""
        return yaml.dump(self.source, Dumper=_Dumper, sort_keys=False, allow_unicode=True)

    def summary(self) -> str:
        """One line: what this pipeline will do."""
        cfg = self.config
        model = cfg.model if isinstance(cfg.model, str) else cfg.model.model if cfg.model else None
        n = len(self.tasks)
        parts = [
            f"{n} task{'s' if n != 1 else ''}",
            f"model {model}" if model else "model from $MCODEACT_MODEL",
            f"{cfg.candidates} candidates",
            f"{cfg.repair_rounds} repair rounds",
            f"test designer {'on' if cfg.test_designer else 'off'}",
            f"judge {'on' if cfg.judge else 'off'}",
        ]
        return f"{self.path}: valid pipeline (version {cfg.version}): " + ", ".join(parts)


def load_pipeline(
    path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
) -> PipelineFile:
    """Read and validate a pipeline file; `env` (default os.environ) feeds `${VAR}`."""
    file = Path(path)
    return parse_pipeline(read_text(file, "pipeline file"), name=str(file), env=env, path=file)


def parse_pipeline(
    text: str,
    *,
    name: str = "<pipeline>",
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> PipelineFile:
    """Validate pipeline YAML from a string; `name` is what error messages call it."""
    tree = parse_yaml(text, name, os.environ if env is None else env)
    if tree is None:
        empty = "the file is empty; expected a mapping with 'version: 1', the settings and 'tasks:'"
        raise _fail(name, 1, empty)
    if not isinstance(tree.data, dict):
        kind = "a list" if isinstance(tree.data, list) else f"a {type(tree.data).__name__}"
        raise _fail(
            name, 1, f"expected a mapping of settings (version, model, tasks...), got {kind}"
        )
    _check_version(tree, name)
    if all(key in tree.data for key in _TASK_KEYS):
        both = "task: give either 'task:' (one task) or 'tasks:' (a list), not both"
        raise _fail(name, tree.line_of(("task",)), both)
    try:
        parsed = PipelineFileSchema.model_validate(tree.data)
    except ValidationError as exc:
        raise PipelineFileError(_problems(exc, tree, name)) from None
    settings = {k: v for k, v in tree.data.items() if k not in _TASK_KEYS}
    config = PipelineConfig.model_validate(settings)
    tasks = [parsed.task] if parsed.task is not None else list(parsed.tasks)
    tasks = [_files_from(t, path.parent if path is not None else Path.cwd()) for t in tasks]
    return PipelineFile(path=path or Path(name), config=config, tasks=tasks, source=tree.raw)


def _files_from(task: Task, folder: Path) -> Task:
    """A task's `files:` as written are relative to the pipeline file's folder, not to
    wherever `mcodeact run` is started."""
    if not task.files:
        return task
    files = [folder / f.expanduser() for f in task.files]  # an absolute path stays as it is
    return task.model_copy(update={"files": files})


def pipeline_json_schema() -> dict[str, Any]:
    """JSON Schema of pipeline files, for editor completion and validation."""
    schema = PipelineFileSchema.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "mcodeact pipeline",
        "description": (
            "A multiagent-codeact pipeline: settings and tasks. String values may use "
            "${VAR} and ${VAR:-default}; $${ is a literal ${."
        ),
    }


# -- error messages ----------------------------------------------------------------------------
def _check_version(tree: YamlTree, name: str) -> None:
    """Checked first: a file in another format would otherwise get a pile of unrelated errors."""
    if "version" not in tree.data:
        missing = f"version: missing; add 'version: {FORMAT_VERSION}' at the top (the file format)"
        raise _fail(name, 1, missing)
    version = tree.data["version"]
    if type(version) is not int or version != FORMAT_VERSION:
        shown = _shown(tree.raw["version"])
        unsupported = f"version: unsupported version {shown}; this release reads {FORMAT_VERSION}"
        raise _fail(name, tree.line_of(("version",)), unsupported)


def _fail(name: str, line: int, message: str) -> PipelineFileError:
    return PipelineFileError([f"{name}:{line}: {message}"])


def _problems(exc: ValidationError, tree: YamlTree, name: str) -> list[str]:
    located = [_locate(err, tree.data) for err in exc.errors()]
    # A union (model: a name or a mapping) fails once per member; where one member got
    # further, its errors are the useful ones and "should be a valid string" is noise.
    deep = {path for path, _, tag in located if tag is None}
    merged: dict[KeyPath, list[str]] = {}
    problems: list[tuple[int, str]] = []
    for path, err, tag in located:
        if tag is not None:
            if not any(d[: len(path)] == path for d in deep):
                merged.setdefault(path, []).append(tag)
            continue
        problems.append(_problem(err, path, tree, name))
    for path, tags in merged.items():
        # "a model name or a mapping of model settings" already covers the string member.
        kept = [t for t in tags if t != "str"] if "ModelConfig" in tags else tags
        expected = " or ".join(dict.fromkeys(_describe(t) for t in kept))
        line = tree.line_of(path)
        message = f"expected {expected}{_got(tree, path, force=True)}"
        problems.append((line, f"{name}:{line}: {format_path(path)}: {message}"))
    problems.sort(key=lambda p: p[0])
    return list(dict.fromkeys(text for _, text in problems))


def _locate(err: ErrorDetails, data: Any) -> tuple[KeyPath, ErrorDetails, str | None]:
    """The error's path in the data, without the union-member tags pydantic inserts; and the
    tag when the error only says the value is not of that member's type."""
    loc = err["loc"]
    path: list[str | int] = []
    current: Any = data
    skipped: str | None = None
    for i, part in enumerate(loc):
        in_mapping = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_mapping or in_list:
            path.append(part)
            current = current[part]
        elif i == len(loc) - 1 and err["type"] == "missing":
            path.append(part)
        else:
            skipped = str(part)
            continue
        skipped = None
    is_type_error = err["type"].endswith("_type") or err["type"] == "literal_error"
    return tuple(path), err, skipped if skipped is not None and is_type_error else None


def _problem(err: ErrorDetails, path: KeyPath, tree: YamlTree, name: str) -> tuple[int, str]:
    kind = err["type"]
    if kind == "missing":
        parent = path[:-1]
        line = tree.line_of(parent)
        return line, f"{name}:{line}: {format_path(parent)}: missing required key '{path[-1]}'"
    line = tree.line_of(path)
    where = f"{name}:{line}: {format_path(path)}"
    if kind == "extra_forbidden":
        return line, f"{where}: unknown key{_suggestion(path)}"
    if kind == "model_type":
        if path[:1] in (("tasks",), ("task",)):
            message = (
                "expected a task: text, or a mapping with prompt, entry_point, examples, tests, "
                "files"
            )
        else:
            message = "expected a mapping of settings"
        return line, f"{where}: {message}{_got(tree, path, force=True)}"
    message = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return line, f"{where}: {message}{_got(tree, path)}"


def _suggestion(path: KeyPath) -> str:
    model = _model_at(PipelineFileSchema, path[:-1])
    if model is None:
        return ""
    valid = list(model.model_fields)
    close = difflib.get_close_matches(str(path[-1]), valid, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(valid)}"


def _model_at(model: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `path` (for its list of keys)."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue  # list items: the annotation already names the item type
        found = _models_in(current)
        if not found or part not in found[0].model_fields:
            return None
        current = found[0].model_fields[part].annotation
    found = _models_in(current)
    return found[0] if found else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) is Annotated:
        return _models_in(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        return [m for a in args for m in _models_in(a)]
    return []


def _got(tree: YamlTree, path: KeyPath, *, force: bool = False) -> str:
    """` (got VALUE)`, written as in the file; never a value read from the environment, and
    never text inside a model's settings, where a pasted key could hide."""
    raw = _at(tree.raw, path)
    if path in tree.interpolated:
        return f" (got the value of {_shown(raw)})"
    if isinstance(raw, str) and path[:1] in (("model",), ("agents",)):
        return ""
    if isinstance(raw, (dict, list)):
        return f" (got a {'mapping' if isinstance(raw, dict) else 'list'})" if force else ""
    return f" (got {_shown(raw)})"


def _at(data: Any, path: KeyPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return repr(value)


_TAG_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "none": "null",
    "list": "a list",
    "dict": "a mapping",
}


def _describe(tag: str) -> str:
    if tag in _TAG_NAMES:
        return _TAG_NAMES[tag]
    if tag == "ModelConfig":
        return "a model name or a mapping of model settings (model, base_url, api_key_env, ...)"
    return f"a mapping of {tag} settings"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (prompts, tests) as literal blocks, as a person would write them."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)
