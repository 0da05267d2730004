"""Progress of `mcodeact solve` and `mcodeact run`: each task's phase, read from its events.

`TaskProgress` is an event sink that only watches: it turns the run's events into a phase a
person can follow ("coders 3/4 answered", "verifying", "repair round 1: 1/2 answered"), which
agents are waiting on their model (with the tokens streamed so far when replies stream), and
the run's tokens and cost.
`ProgressDisplay` shows one line per task on stderr, a live spinner on a terminal and one
plain line per finished task otherwise (CI logs, pipes), so stdout stays clean for `--json`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .domain import Solution, Task
from .events import Event
from .terminal import printable

__all__ = ["ProgressDisplay", "TaskProgress", "task_label"]

VERDICT_STYLE = {"verified": "green", "disputed": "yellow", "failed": "red"}
VERDICT_MARK = {"verified": "✓", "disputed": "?", "failed": "✗"}


def task_label(task: Task, index: int | None = None, width: int = 48) -> str:
    """The task's id, else the first line of its prompt, shortened to `width`; safe to print
    (`terminal.printable`)."""
    if task.id:
        return printable(task.id)
    first = " ".join(task.prompt.strip().splitlines()[0].split()) if task.prompt.strip() else ""
    first = printable(first)
    text = first if len(first) <= width else first[: width - 1] + "…"
    return f"{index}. {text}" if index is not None else text


@dataclass
class TaskProgress:
    """The phase of one run, updated from its events (use the instance as a sink)."""

    label: str
    candidates: int
    judge: bool = False
    phase: str = "waiting"
    run_id: str | None = None
    verdict: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = False
    wants_tokens: bool = False
    """Ask for `token` events (a live view: replies then stream, and the counts move)."""
    started: float | None = None
    finished: float | None = None
    _answered: dict[int, int] = field(default_factory=dict)
    _expected: dict[int, int] = field(default_factory=dict)
    _verdicts: int = 0
    _asking: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._apply(event)

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def elapsed_s(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    @property
    def asking(self) -> dict[str, int]:
        """Agents waiting on their model now, with the tokens streamed to each so far."""
        with self._lock:
            return dict(self._asking)

    def _apply(self, event: Event) -> None:
        kind, data = event.kind, event.data
        if kind == "token":
            agent = event.agent or "?"
            self._asking[agent] = self._asking.get(agent, 0) + 1
            return
        if kind == "message" and event.agent == "user" and isinstance(data.get("to"), str):
            self._asking[data["to"]] = 0
        elif kind in ("model_call", "candidate", "error", "judge") and event.agent:
            self._asking.pop(event.agent, None)
        if kind == "model_call":
            self.tokens += _int(data.get("prompt_tokens")) + _int(data.get("completion_tokens"))
            cost = data.get("cost_usd")
            self.cost_usd += float(cost) if isinstance(cost, int | float) else 0.0
            self.priced = self.priced or data.get("price_known") is True
        if kind == "run_started":
            self.run_id, self.started = event.run_id, time.monotonic()
            self._expected[0] = self.candidates
            self.phase = self._answers(0)
        elif event.agent == "optimizer" or kind == "optimization":
            self.phase = "optimizing"
        elif kind in ("candidate", "error") and (event.agent or "").startswith("coder"):
            round_ = _int(data.get("round", self._verdicts))
            self._answered[round_] = self._answered.get(round_, 0) + 1
            self.phase = self._answers(round_)
        elif kind == "verdict":
            self._verdicts += 1
            verdict, confidence = str(data.get("verdict")), float(data.get("confidence") or 0)
            after = "; running it" if verdict == "verified" else ""
            self.phase = f"round {self._verdicts}: {verdict} ({confidence:.2f}){after}"
        elif kind == "repair":
            round_ = self._verdicts
            self._expected[round_] = self._expected.get(round_, 0) + 1
            self.phase = self._answers(round_)
        elif kind == "execution" and data.get("final"):
            self.phase = "the judge is reviewing" if self.judge else "finishing"
        elif kind == "run_finished":
            self.verdict = str(data.get("verdict"))
            self.finished = time.monotonic()
            self.phase = self.verdict
            self._asking.clear()

    def activity(self) -> str:
        """Who is waiting on a model, then the run's tokens and cost: "coder1 ▸ 120 tok · ..."."""
        parts = [f"{a} ▸ {n} tok" if n else f"{a} …" for a, n in sorted(self.asking.items())]
        parts.append(f"{self.tokens:,} tokens")
        if self.priced:
            parts.append(f"${self.cost_usd:.4f}")
        return " · ".join(parts)

    def _answers(self, round_: int) -> str:
        got, expected = self._answered.get(round_, 0), self._expected.get(round_, 0)
        if expected and got >= expected:
            return "verifying" if round_ == 0 else f"verifying repair round {round_}"
        who = "coders" if round_ == 0 else f"repair round {round_}:"
        return f"{who} {got}/{expected} answered"


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class ProgressDisplay:
    """One line per task on stderr while they run: pending, working (with its phase), done."""

    def __init__(self, console: Console, tasks: list[TaskProgress]) -> None:
        self.console = console
        self.tasks = tasks
        self._spinners = [Spinner("dots", style="cyan") for _ in tasks]

    @contextmanager
    def shown(self) -> Iterator[None]:
        """Live on a terminal; elsewhere, plain lines are printed by `task_done`."""
        if not self.console.is_terminal:
            yield
            return
        with Live(
            _Renderable(self),
            console=self.console,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        ):
            yield

    def task_done(self, progress: TaskProgress, solution: Solution | None) -> None:
        """A finished task's line, kept above the live area (or printed plainly)."""
        self.console.print(self._done_line(progress, solution))

    def render(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        grid.add_column(style="dim", no_wrap=True, overflow="ellipsis")
        for spinner, task in zip(self._spinners, self.tasks, strict=True):
            if task.done:
                continue
            if task.started is None:
                grid.add_row(Text("·", "dim"), Text(task.label, "dim"), task.phase)
            else:
                spinner.text = ""
                extra = f"  {task.activity()} · {task.elapsed_s:.0f} s"
                grid.add_row(spinner, Text(task.label), Text(task.phase + extra))
        return grid

    def _done_line(self, progress: TaskProgress, solution: Solution | None) -> Text:
        verdict = solution.verdict.value if solution is not None else "failed"
        mark = VERDICT_MARK.get(verdict, "✗")
        style = VERDICT_STYLE.get(verdict, "red")
        confidence = f" ({solution.confidence:.2f})" if solution is not None else ""
        return Text.assemble(
            (f"{mark} ", f"bold {style}"),
            (progress.label, "bold"),
            (f"  {verdict}{confidence}", style),
            (f"  {progress.elapsed_s:.1f} s", "dim"),
        )


class _Renderable:
    """Re-rendered by Live on every refresh, so the spinners and phases move."""

    def __init__(self, display: ProgressDisplay) -> None:
        self.display = display

    def __rich__(self) -> RenderableType:
        return Group(self.display.render())
