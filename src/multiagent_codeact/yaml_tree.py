"""YAML text to plain data that remembers where each value was written, with `${VAR}` expanded.

`yaml.safe_load` forgets lines, so a schema error could only say *what* is wrong, not where. Here
the node tree from `yaml.compose` is walked once, recording the line of every key and value by
its key path (`("agents", "coder", "model")`, `("tasks", 2)`), so the caller can map a pydantic
error location back to a line. The tree is kept twice: as written (`raw`, `${VAR}` intact, safe
to write back out) and interpolated (`data`, what gets validated).

Interpolation applies to string values only, never to keys: `${VAR}` is the variable's value and
fails when VAR is unset; `${VAR:-default}` falls back when VAR is unset or empty; `$${` writes a
literal `${`. A `$` anywhere else is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputFileError

__all__ = ["KeyPath", "YamlTree", "format_path", "parse_yaml", "read_text"]

KeyPath = tuple[str | int, ...]

_STR_TAG = "tag:yaml.org,2002:str"
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_BODY = re.compile(rf"(?P<name>{_NAME})(?::-(?P<default>.*))?", re.S)
MAX_VALUES = 100_000
"""Aliases can make a small file expand enormously ("billion laughs"): refuse beyond this."""


@dataclass
class YamlTree:
    """One YAML document as data, as written, and with the line (1-based) of every key path."""

    data: Any
    raw: Any
    value_lines: dict[KeyPath, int] = field(default_factory=dict)
    key_lines: dict[KeyPath, int] = field(default_factory=dict)
    interpolated: set[KeyPath] = field(default_factory=set)

    def line_of(self, path: KeyPath) -> int:
        """The line of `path`'s key (or list item), else of its closest recorded ancestor."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            line = self.key_lines.get(prefix) or self.value_lines.get(prefix)
            if line is not None:
                return line
        return 1


def read_text(path: Path, what: str = "file") -> str:
    """The file's text, or an InputFileError that says in plain words why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, expected a YAML {what}") from None
    except PermissionError:
        raise InputFileError(f"{path}: cannot read it: permission denied") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None


def parse_yaml(
    text: str, name: str, env: Mapping[str, str], *, interpolate: bool = True
) -> YamlTree | None:
    """The single YAML document in `text` (None when empty); `name` prefixes every error."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        tree = YamlTree(data=None, raw=None)
        tree.raw, tree.data = _Walker(loader, tree, name, env, interpolate).walk(node, ())
        return tree
    except yaml.MarkedYAMLError as exc:
        raise InputFileError(_yaml_error(name, exc, text)) from None
    except yaml.YAMLError as exc:  # no position (rare: reader errors carry none)
        raise InputFileError(f"{name}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]


def _yaml_error(name: str, exc: yaml.MarkedYAMLError, text: str) -> str:
    """`FILE:LINE:COL: invalid YAML: problem (context)` at the place parsing stopped, and, when
    the construct it was inside began elsewhere, that place too: for an unclosed `[`, `{` or
    quote the stop is often the end of the file, and the mistake is where the construct opened.
    """
    stop, start = exc.problem_mark, exc.context_mark
    mark = stop or start
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
    problem = _plain(exc.problem or "not valid YAML")
    if not exc.context:
        return f"{where}: invalid YAML: {problem}"
    context = _plain(exc.context)
    if start is not None and stop is not None and start.index != stop.index:
        at = f"line {start.line + 1}, column {start.column + 1}"
        what = context.removeprefix("while parsing ").removeprefix("while scanning ")
        if what == context:  # e.g. "expected a single document in the stream"
            context += f": see {at}"
        else:  # "while parsing a flow sequence": the flow sequence '[' that opened there
            opener = text[start.index : start.index + 1]
            shown = f" {opener!r}" if opener and opener in "[{\"'" else ""
            what = what.removeprefix("a ").removeprefix("an ")
            context = f"in the {what}{shown} that opened on {at}"
    return f"{where}: invalid YAML: {problem} ({context})"


def _plain(message: str) -> str:
    """PyYAML's words for the end of the input, as a person says them."""
    return message.replace("'<stream end>'", "the end of the file").replace(
        "end of stream", "end of the file"
    )


def format_path(path: KeyPath) -> str:
    """`agents.coder.model`, `tasks[1].prompt`; "(top level)" for the root."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


class _Walker:
    def __init__(
        self,
        loader: yaml.SafeLoader,
        tree: YamlTree,
        name: str,
        env: Mapping[str, str],
        interpolate: bool,
    ) -> None:
        self.loader = loader
        self.tree = tree
        self.name = name
        self.env = env
        self.interpolate = interpolate
        self.values = 0

    def walk(self, node: yaml.Node, path: KeyPath) -> tuple[Any, Any]:
        """(as written, interpolated) for `node`, recording lines under `path`."""
        self.values += 1
        if self.values > MAX_VALUES:
            raise InputFileError(
                f"{self.name}:{node.start_mark.line + 1}: more than {MAX_VALUES:,} values "
                "(aliases expanding?); a pipeline file is not that big"
            )
        self.tree.value_lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            pairs = [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
            return [raw for raw, _ in pairs], [data for _, data in pairs]
        value = self.loader.construct_object(node, deep=True)  # type: ignore[no-untyped-call]
        if node.tag != _STR_TAG or not isinstance(value, str) or "$" not in value:
            return value, value
        if not self.interpolate:
            return value, value
        expanded = self._expand(value, node, path)
        if expanded != value:
            self.tree.interpolated.add(path)
        return value, expanded

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> tuple[Any, Any]:
        self.loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
        raw: dict[str, Any] = {}
        data: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = (
                self.loader.construct_object(key_node)  # type: ignore[no-untyped-call]
                if isinstance(key_node, yaml.ScalarNode)
                else None
            )
            if not isinstance(key, str):
                shown = "a nested mapping or list" if key is None else repr(key)
                raise InputFileError(
                    f"{self.name}:{line}: {format_path(path)}: keys must be names, got {shown}"
                )
            if key in raw:
                first = self.tree.key_lines[(*path, key)]
                raise InputFileError(
                    f"{self.name}:{line}: {format_path((*path, key))}: duplicate key "
                    f"(first set on line {first}); keep one"
                )
            self.tree.key_lines[(*path, key)] = line
            raw[key], data[key] = self.walk(value_node, (*path, key))
        return raw, data

    def _expand(self, text: str, node: yaml.Node, path: KeyPath) -> str:
        def replace(match: re.Match[str]) -> str:
            whole = match.group(0)
            if whole == "$${":
                return "${"
            body = match.group(1)
            line = self._line_in(node, text, match.start())
            where = f"{self.name}:{line}: {format_path(path)}"
            if body is None:
                raise InputFileError(
                    f"{where}: '${{' is not closed: write ${{NAME}}, or $${{ for a literal '${{'"
                )
            parsed = _BODY.fullmatch(body)
            if parsed is None:
                raise InputFileError(
                    f"{where}: bad variable reference '{whole}': write ${{NAME}} or "
                    f"${{NAME:-default}} (NAME: letters, digits, _), or $${{ for a literal '${{'"
                )
            var, default = parsed.group("name"), parsed.group("default")
            value = self.env.get(var)
            if default is not None:
                return value if value else default
            if value is None:
                raise InputFileError(
                    f"{where}: environment variable {var} is not set (referenced as "
                    f"'{whole}'); export it, or give a default: ${{{var}:-...}}"
                )
            return value

        return _REFERENCE.sub(replace, text)

    @staticmethod
    def _line_in(node: yaml.Node, text: str, offset: int) -> int:
        """The file line of `text[offset]`: exact in a literal block (`|`), the start elsewhere."""
        start = node.start_mark.line + 1
        if getattr(node, "style", None) == "|":
            return start + 1 + text.count("\n", 0, offset)
        return start
