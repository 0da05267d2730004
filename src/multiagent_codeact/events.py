"""The events of a run: what every agent said, ran and decided, in order.

The pipeline emits; sinks observe (the run store writes JSONL, a CLI shows progress, tests
collect). Sinks never steer the run: one that raises is reported once on stderr and dropped, so
a full disk or a broken display cannot lose the user's solution. Every event is scrubbed of the
run's secrets (API keys) before any sink sees it.

`token` events are the pieces of a reply as a model streams it. They are transient: only sinks
that say `wants_tokens = True` get them, and they are neither numbered nor kept (a reply would
be hundreds of events; the full message follows as a `message` event). A token event's `seq` is
that of the last recorded event.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

EventKind = Literal[
    "run_started",
    "input_files",  # the files every job of the run is given (name, bytes)
    "model_call",
    "message",
    "candidate",
    "execution",
    "verdict",
    "repair",
    "adjudication",
    "judge",
    "optimization",
    "error",
    "run_finished",
    "token",
    "bench_task",  # a bench run's record of one finished task (batch.parent)
]
REDACTED = "[REDACTED]"


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    seq: int
    time: float = Field(description="seconds since the epoch")
    kind: EventKind
    agent: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


Sink = Callable[[Event], None]


class Recorder:
    """Numbers, scrubs and fans out events. Thread-safe: agents emit from several tasks."""

    def __init__(self, run_id: str, sinks: Iterable[Sink] = (), secrets: Iterable[str] = ()):
        self.run_id = run_id
        self.events: list[Event] = []
        self._sinks = list(sinks)
        # Short strings would redact ordinary words; real keys are long.
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)
        self._lock = threading.Lock()

    def add_sink(self, sink: Sink) -> None:
        with self._lock:
            self._sinks.append(sink)

    @property
    def wants_tokens(self) -> bool:
        """Whether any sink takes `token` events (then replies are worth streaming)."""
        with self._lock:
            return any(_wants_tokens(s) for s in self._sinks)

    def emit_token(self, agent: str, text: str) -> None:
        """A piece of `agent`'s reply as it streams in, to the sinks that want tokens only."""
        with self._lock:
            sinks = [s for s in self._sinks if _wants_tokens(s)]
            if not sinks:
                return
            event = Event(
                run_id=self.run_id,
                seq=len(self.events) - 1,
                time=time.time(),
                kind="token",
                agent=agent,
                data=self._scrub({"text": text}),
            )
        self._deliver(event, sinks)

    def emit(self, kind: EventKind, agent: str | None = None, **data: Any) -> Event:
        with self._lock:
            event = Event(
                run_id=self.run_id,
                seq=len(self.events),
                time=time.time(),
                kind=kind,
                agent=agent,
                data=self._scrub(data),
            )
            self.events.append(event)
            sinks = list(self._sinks)
        self._deliver(event, sinks)
        return event

    def _deliver(self, event: Event, sinks: list[Sink]) -> None:
        for sink in sinks:
            try:
                sink(event)
            except Exception as exc:
                logger.warning("an event sink failed and was dropped: %r", exc)
                with self._lock:
                    if sink in self._sinks:
                        self._sinks.remove(sink)

    def of_kind(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def _scrub(self, data: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(data, default=_jsonable)
        if self._secrets:
            for secret in self._secrets:
                text = text.replace(secret, REDACTED)
        loaded: dict[str, Any] = json.loads(text)
        return loaded


def _wants_tokens(sink: Sink) -> bool:
    return getattr(sink, "wants_tokens", False) is True


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return repr(value)
