"""What the scripted model answers: rules matched on the agent's role and the last user message.

A `Script` is the model's behaviour written down. Tests and benchmarks use it to make a real
OpenAI-compatible server answer each agent as a model would (right, wrong, malformed, slow or
failing) so the real `openai` client and AgentChat run end to end without a live model.

The error tree of this subsystem is drawn in the package docstring.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import MCAError

__all__ = [
    "ChatRequest",
    "NoRuleMatchedError",
    "Reply",
    "Rule",
    "Script",
    "ScriptFileError",
    "ScriptedError",
    "count_tokens",
]

_ROLE_MARKER = re.compile(r"\[role:\s*([A-Za-z0-9_.-]+)\s*\]")
_SYSTEM_ROLES = ("system", "developer")


class ScriptedError(MCAError):
    """Root of the errors raised by the scripted model server and its scripts."""


class ScriptFileError(ScriptedError, ValueError):
    """A script file is missing or malformed; the message names the file and the key."""


class NoRuleMatchedError(ScriptedError, LookupError):
    """No rule matched a request and the script has no default; the server answers 500 with this
    message so the failing test shows which request went unanswered."""


def count_tokens(text: str) -> int:
    """Deterministic token estimate: one token per started group of 4 characters.

    The server reports usage with it: prompt_tokens is the sum over messages of
    count_tokens(text of the message) + 1, completion_tokens is count_tokens(reply content).
    Real tokenizers average about 4 characters per token on English and code, so budgets and
    cost accounting see realistic magnitudes without a tokenizer dependency.
    """
    return (len(text) + 3) // 4


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message whose content is a string, a list of parts, or absent."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return ""


class Reply(BaseModel):
    """One scripted answer. A plain string in a script file stands for `Reply(content=...)`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str = ""
    status: int = 200
    """200 answers with `content`; 400-599 answers an OpenAI-style error whose message is
    `content` (or a standard one when empty)."""
    delay_s: float = Field(default=0.0, ge=0)
    """Sleep before answering, without blocking other requests: slow models, client timeouts."""
    retry_after_s: float | None = Field(default=None, ge=0)
    """Sent as a Retry-After header with an error status (429, 503...)."""
    finish_reason: Literal["stop", "length", "content_filter"] = "stop"
    """"length" simulates output cut at the token limit."""
    error_code: str | None = None
    """The `code` of an error reply's body (e.g. "model_not_found"); None: the status's usual."""
    body: str | None = None
    """Sent verbatim with `status` and `content_type` instead of an API answer, streamed or not:
    a server that is not an OpenAI API (an HTML page, other JSON, plain text)."""
    content_type: str = "text/html; charset=utf-8"
    """The Content-Type of a verbatim `body`."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"content": data} if isinstance(data, str) else data

    @field_validator("status")
    @classmethod
    def _known_status(cls, status: int) -> int:
        if status != 200 and not 400 <= status <= 599:
            raise ValueError(f"status must be 200 or an error status 400-599, got {status}")
        return status


class Rule(BaseModel):
    """Answers requests from one role and/or whose last user message matches a regex."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str | None = None
    """Matches `ChatRequest.role`; None matches any role, including none."""
    match: str | None = None
    """Regex searched (re.S) in the last user message; None matches any message."""
    replies: list[Reply] = Field(min_length=1)
    """Given in the order of the requests this rule matched; after the last, the last repeats."""
    cycle: bool = False
    """Start over after the last reply instead of repeating it."""

    @field_validator("match")
    @classmethod
    def _valid_regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern, re.S)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern

    def matches(self, request: ChatRequest) -> bool:
        """Whether this rule answers `request`."""
        if self.role is not None and self.role != request.role:
            return False
        return self.match is None or re.search(self.match, request.last_user, re.S) is not None

    def reply_at(self, served: int) -> Reply:
        """The reply for the rule's `served`-th match (counting from 0)."""
        if self.cycle:
            return self.replies[served % len(self.replies)]
        return self.replies[min(served, len(self.replies) - 1)]


class ChatRequest(BaseModel):
    """A chat completion request as the server received it."""

    model_config = ConfigDict(frozen=True)

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    temperature: float | None = None
    raw: dict[str, Any]
    """The whole JSON body."""
    headers: dict[str, str]
    """HTTP headers, names lower-cased."""
    role: str | None = None
    """NAME from a `[role: NAME]` marker in the first system message, else None."""
    received_at: float = Field(default_factory=time.monotonic)
    """time.monotonic() when the server parsed it: timelines of model calls in benchmarks."""

    @classmethod
    def from_body(cls, body: Mapping[str, Any], headers: Mapping[str, str]) -> ChatRequest:
        """Parse a request body; raises pydantic's ValidationError when it is not a chat request."""
        fields = {key: body[key] for key in ("model", "messages", "stream") if key in body}
        fields.update(temperature=body.get("temperature"), raw=dict(body), headers=dict(headers))
        if fields.get("stream") is None:
            fields.pop("stream", None)
        request = cls.model_validate(fields)
        found = _ROLE_MARKER.search(request.system)
        return request.model_copy(update={"role": found.group(1) if found else None})

    @property
    def system(self) -> str:
        """Text of the first system (or developer) message, "" when there is none."""
        for message in self.messages:
            if message.get("role") in _SYSTEM_ROLES:
                return message_text(message)
        return ""

    @property
    def last_user(self) -> str:
        """Text of the last user message, "" when there is none."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message_text(message)
        return ""

    @property
    def prompt_tokens(self) -> int:
        """Prompt size by the rule of `count_tokens`."""
        return sum(count_tokens(message_text(message)) + 1 for message in self.messages)


Handler = Callable[[ChatRequest], Reply | str | None]


class _ScriptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list)
    default: Reply | None = None


class Script:
    """Decides the reply to each request: the handler first, then the first matching rule, then
    the default. Thread-safe: the server answers requests from several threads."""

    def __init__(
        self,
        rules: Sequence[Rule] = (),
        *,
        handler: Handler | None = None,
        default: Reply | None = None,
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.handler = handler
        self.default = default
        self._served = [0] * len(self.rules)
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Script:
        """Load `{"rules": [...], "default": {...}}` from YAML, or JSON for a .json file."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScriptFileError(f"cannot read script file {file}: {exc}") from exc
        data = _parse(file, text)
        if not isinstance(data, dict):
            raise ScriptFileError(
                f"{file}: a script must be a mapping with keys 'rules' and 'default', "
                f"got {type(data).__name__}"
            )
        try:
            parsed = _ScriptFile.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{_key_path(error['loc'])}: {error['msg']}" for error in exc.errors()
            )
            raise ScriptFileError(f"{file}: invalid script: {problems}") from None
        return cls(parsed.rules, default=parsed.default)

    def answer(self, request: ChatRequest) -> Reply:
        """The reply to `request`; raises NoRuleMatchedError when nothing answers it.

        Exceptions from the handler propagate: the server turns them into a 500 that names them.
        """
        if self.handler is not None:
            answer = self.handler(request)
            if isinstance(answer, str):
                return Reply(content=answer)
            if isinstance(answer, Reply):
                return answer
            if answer is not None:
                raise TypeError(
                    f"script handler must return Reply, str or None, got {type(answer).__name__}"
                )
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.matches(request):
                    served = self._served[index]
                    self._served[index] = served + 1
                    return rule.reply_at(served)
        if self.default is not None:
            return self.default
        raise NoRuleMatchedError(
            f"scripted server: no rule matched the request (role={request.role!r}, "
            f"last user message {_preview(request.last_user)!r}) and the script has no default; "
            "add a rule or a default reply"
        )


def _parse(file: Path, text: str) -> Any:
    if file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScriptFileError(
                f"{file}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScriptFileError(f"{file}: {where}invalid YAML: {problem}") from None


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _preview(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
