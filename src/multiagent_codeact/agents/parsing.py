"""Reading models' replies: code, tests and explanation out of whatever shape they came in.

Models are asked for `## Explanation`, `## Code` and `## Tests` sections, and mostly comply;
the rest of the time the code is unfenced, split over several blocks, preceded or followed by
prose, named differently from what the task asked, or cut off by the token limit. Small models
(measured with SmolLM2-135M, tests/agents/replies/) also put their asserts inside the code,
trail off into prose inside the fence, and answer the test designer with an implementation. A
reply that still yields usable code is used; one that does not becomes feedback naming what
was wrong, never an exception.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .. import pyast

_FENCE = re.compile(
    r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$(?P<close>)|\Z)",
    re.M | re.S,
)
_HEADING = re.compile(
    r"^[ \t]*#{1,6}[ \t]*"
    r"(explanation|approach|code|solution|implementation|tests?|unit tests)\b.*$",
    re.I | re.M,
)
_NOT_PYTHON = frozenset(
    {"text", "bash", "sh", "shell", "console", "json", "yaml", "output", "plaintext"}
)


class ParsedReply(BaseModel):
    """What a coder's reply contained. `problems` says what was wrong, for the model to fix."""

    model_config = ConfigDict(frozen=True)

    code: str | None = None
    tests: str = ""
    explanation: str = ""
    problems: list[str] = Field(default_factory=list)
    truncated: bool = False

    @property
    def usable(self) -> bool:
        return self.code is not None


class _Block(BaseModel):
    lang: str
    body: str
    start: int
    end: int
    closed: bool
    section: str | None  # the heading the block sits under, lower-cased


def parse_coder_reply(
    text: str, entry_point: str | None, *, truncated: bool = False
) -> ParsedReply:
    """Split a coder's reply into code, tests and explanation.

    `truncated` is what the API said (finish_reason "length"); an unclosed fence says it too.
    """
    problems: list[str] = []
    blocks = _blocks(text)
    if not blocks and _looks_like_code(text):
        blocks = [
            _Block(lang="python", body=text, start=0, end=len(text), closed=True, section=None)
        ]
    python = [b for b in blocks if b.lang not in _NOT_PYTHON]
    cut = truncated or any(not b.closed for b in python)
    test_blocks = [b for b in python if _is_tests(b, entry_point)]
    code_blocks = [b for b in python if b not in test_blocks]
    explanation = _explanation(text, blocks)
    if not code_blocks:
        problems.append(
            "the reply has no code block: put the complete code in a ```python block "
            "under '## Code'"
        )
        return ParsedReply(explanation=explanation, problems=problems, truncated=cut)
    code = "\n\n".join(b.body.rstrip() for b in code_blocks) + "\n"
    try:
        pyast.parse(code)
    except SyntaxError as exc:
        kept = _parsing_prefix(code, exc.lineno or 1, entry_point)
        if kept is None:
            if cut:
                problems.append(
                    "the reply was cut off before the code ended: reply again with shorter "
                    "explanation and the complete code"
                )
            else:
                problems.append(f"the code does not parse: {exc.msg} (line {exc.lineno})")
            return ParsedReply(explanation=explanation, problems=problems, truncated=cut)
        problems.append(
            f"the code from line {exc.lineno} on does not parse ({exc.msg}) and "
            "was left out: send only complete Python in the code block"
        )
        code = kept
    code, inline_tests = _split_asserts(code, entry_point)
    code, renamed = _fix_entry_point(code, entry_point)
    if renamed:
        problems.append(renamed)
    elif entry_point is not None and not _defines(code, entry_point):
        problems.append(f"the code does not define a function named {entry_point!r}")
        return ParsedReply(explanation=explanation, problems=problems, truncated=cut)
    tests = "\n".join([*(b.body.rstrip() for b in test_blocks if _parses(b.body)), *inline_tests])
    return ParsedReply(
        code=code, tests=tests + ("\n" if tests else ""), explanation=explanation,
        problems=problems, truncated=cut,
    )  # fmt: skip


def parse_tests_reply(text: str) -> str:
    """The tests in a test designer's reply: from every fenced block that parses, its asserts,
    test_* functions, imports and plain assignments (an implementation the designer wrote
    anyway is left out: it would replace the code under test); else the bare assert lines."""
    tests = [t for b in _blocks(text) if b.lang not in _NOT_PYTHON for t in _test_parts(b.body)]
    if not tests:
        tests = [
            line.strip()
            for line in text.splitlines()
            if line.strip().startswith("assert ") and _parses(line.strip())
        ]
    has_check = any(t.startswith(("assert", "def test")) for t in tests)
    return "\n".join(tests) + "\n" if has_check else ""


class JudgeVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    answers_task: bool
    reason: str = ""


def parse_judge_reply(text: str) -> JudgeVerdict | None:
    """The judge's JSON object, fenced or not; None when there is none to be found."""
    for candidate in [*(b.body for b in _blocks(text)), text]:
        start, end = candidate.find("{"), candidate.rfind("}")
        if start < 0 or end <= start:
            continue
        try:
            data: Any = json.loads(candidate[start : end + 1])
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("answers_task"), bool):
            return JudgeVerdict(
                answers_task=data["answers_task"], reason=str(data.get("reason", ""))
            )
    return None


# -- helpers -------------------------------------------------------------------------------


def _blocks(text: str) -> list[_Block]:
    headings = [(m.start(), m.group(1).lower()) for m in _HEADING.finditer(text)]
    out = []
    for m in _FENCE.finditer(text):
        body = m.group(3)
        closed = m.group("close") is not None
        section = next((h for pos, h in reversed(headings) if pos < m.start()), None)
        out.append(
            _Block(
                lang=m.group(2).lower(),
                body=body,
                start=m.start(),
                end=m.end(),
                closed=closed,
                section=section,
            )
        )
    return out


def _is_tests(block: _Block, entry_point: str | None) -> bool:
    if block.section is not None and block.section.startswith(("test", "unit")):
        return True
    try:
        tree = pyast.parse(block.body)
    except SyntaxError:
        return False
    stmts = [s for s in tree.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    if not stmts:
        return False
    defines_entry = entry_point is not None and _defines(block.body, entry_point)
    testy = all(
        isinstance(s, ast.Assert)
        or (isinstance(s, ast.FunctionDef) and s.name.startswith("test"))
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call))
        for s in stmts
    )
    return (
        testy
        and not defines_entry
        and any(isinstance(s, ast.Assert | ast.FunctionDef) for s in stmts)
    )


def _explanation(text: str, blocks: list[_Block]) -> str:
    pieces, pos = [], 0
    for b in blocks:
        pieces.append(text[pos : b.start])
        pos = b.end
    pieces.append(text[pos:])
    prose = "".join(pieces)
    prose = _HEADING.sub("", prose)
    return re.sub(r"\n{3,}", "\n\n", prose).strip()


def _test_parts(body: str) -> list[str]:
    """The top-level statements of `body` that belong in a test suite, as source."""
    try:
        tree = pyast.parse(body)
    except SyntaxError:
        return []
    keep = []
    for stmt in tree.body:
        is_test_def = isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("test")
        plain = isinstance(stmt, ast.Assert | ast.Import | ast.ImportFrom | ast.Assign)
        if is_test_def or plain:
            source = ast.get_source_segment(body, stmt, padded=True)
            if source:
                keep.append(source.rstrip())
    return keep


def _split_asserts(code: str, entry_point: str | None) -> tuple[str, list[str]]:
    """A function task's code without its top-level asserts, and those asserts: they are the
    model's tests, and left in they run (and can fail) when the code is loaded."""
    if entry_point is None:
        return code, []
    tree = pyast.parse(code)
    asserts = [s for s in tree.body if isinstance(s, ast.Assert)]
    if not asserts or len(asserts) == len(tree.body):
        return code, []
    lines = code.splitlines(keepends=True)
    moved: list[str] = []
    drop: set[int] = set()
    for stmt in asserts:
        end = stmt.end_lineno or stmt.lineno
        moved.append("".join(lines[stmt.lineno - 1 : end]).strip())
        drop.update(range(stmt.lineno - 1, end))
    kept = "".join(line for i, line in enumerate(lines) if i not in drop)
    return kept.rstrip() + "\n", moved


def _parsing_prefix(code: str, error_line: int, entry_point: str | None) -> str | None:
    """The code up to the last complete top-level statement before a syntax error, if that
    still does the job (defines the entry point, or sets `result`); else None.

    Only whole top-level statements are dropped: a function whose body does not parse is
    left out entirely, never cut in half.
    """
    lines = code.splitlines(keepends=True)
    wanted = entry_point if entry_point is not None else "result"
    for cut in range(min(error_line - 1, len(lines)), 0, -1):
        after = next((line for line in lines[cut:] if line.strip()), "")
        if after[:1].isspace():
            continue  # inside a statement: not a place to cut
        prefix = "".join(lines[:cut]).rstrip() + "\n"
        if _parses(prefix):
            return prefix if _defines(prefix, wanted) else None
    return None


def _looks_like_code(text: str) -> bool:
    """An unfenced reply that is entirely Python (some models skip fences)."""
    stripped = text.strip()
    if not stripped or not re.search(
        r"^(def |class |import |from |[A-Za-z_]\w* *=)", stripped, re.M
    ):
        return False
    return _parses(stripped)


def _parses(code: str) -> bool:
    try:
        pyast.parse(code)
    except SyntaxError:
        return False
    return True


def _defines(code: str, name: str) -> bool:
    try:
        tree = pyast.parse(code)
    except SyntaxError:
        return False
    return any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == name
        for n in tree.body
    ) or any(
        isinstance(n, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
        for n in tree.body
    )


def _fix_entry_point(code: str, entry_point: str | None) -> tuple[str, str | None]:
    """Alias a lone, differently named top-level function to the entry point.

    A model that named `is_prime` as `check_prime` wrote the right code under the wrong name;
    an alias keeps the code and the feedback tells it to use the right name next time.
    """
    if entry_point is None or _defines(code, entry_point):
        return code, None
    tree = pyast.parse(code)
    functions = [
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    ]
    if len(functions) != 1:
        return code, None
    other = functions[0]
    note = f"the function is named {other!r}, not {entry_point!r}; it was aliased"
    return f"{code.rstrip()}\n\n{entry_point} = {other}\n", note
