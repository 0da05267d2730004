"""A run written by hand, event by event, as the pipeline would: no model, no sandbox."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multiagent_codeact.domain import AgentUsage, Artifact, Solution, Task, Verdict
from multiagent_codeact.events import Event
from multiagent_codeact.runlog import RunStore, RunWriter

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
TASK = Task(
    prompt="Write a function `dedupe(xs)` that removes duplicates from a list, keeping the first "
    "occurrence of each item.\n>>> dedupe([3, 1, 3, 2, 1])\n[3, 1, 2]",
    entry_point="dedupe",
)
CODE_1 = """def dedupe(xs):
    seen = set()
    out = []
    for x in xs:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out
"""
CODE_2 = "def dedupe(xs):\n    return sorted(set(xs))\n"


def tiny_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\0"))
        + chunk(b"IEND", b"")
    )


def sample_events(run_id: str) -> list[tuple[float, str, str | None, dict[str, Any]]]:
    """(offset s, kind, agent, data) of a two-coder run with a counterexample."""
    call = {
        "model": "gpt-4o-mini",
        "endpoint": "https://api.openai.com/v1",
        "price_known": True,
        "attempts": 1,
        "cached": False,
        "started_at": "2026-01-01T00:00:00Z",
    }
    task = TASK.model_dump(mode="json")
    clusters = [
        {"index": 0, "members": ["c1.0"], "tests_passed": 2, "score": 2.0, "probability": 0.93},
        {"index": 1, "members": ["c2.0"], "tests_passed": 0, "score": 0.1, "probability": 0.07},
    ]
    counterexample = {
        "call": "dedupe([1, 0])",
        "cluster": 1,
        "selected_output": "[1, 0]",
        "rival_output": "[0, 1]",
    }
    plot = {"name": "plot.png", "mime_type": "image/png", "size": 67}
    config = {"candidates": 2, "repair_rounds": 1, "judge": False}
    models = {"coder": "gpt-4o-mini", "test_designer": "gpt-4o-mini"}
    reason = "c1.0 passes every trusted example; c2.0 fails dedupe([3, 1, 3, 2, 1])"
    return [
        (0.00, "run_started", None, {"task": task, "config": config, "models": models}),
        (0.01, "message", "user", {"to": "coder1", "content": "Task:\n" + TASK.prompt}),
        (0.01, "message", "user", {"to": "coder2", "content": "Task:\n" + TASK.prompt}),
        (1.42, "model_call", "coder1",
         {**call, "prompt_tokens": 412, "completion_tokens": 188, "cost_usd": 0.000175,
          "latency_ms": 1410.0}),
        (1.43, "message", "coder1",
         {"type": "TextMessage", "content": f"```python\n{CODE_1}```"}),
        (1.43, "candidate", "coder1",
         {"round": 0, "id": "c1.0", "usable": True, "problems": [], "code": CODE_1,
          "tests": "assert dedupe([1, 1]) == [1]\n", "explanation": "keep a set of seen items"}),
        (1.80, "model_call", "coder2",
         {**call, "prompt_tokens": 409, "completion_tokens": 95, "cost_usd": 0.000118,
          "latency_ms": 1790.0, "attempts": 2}),
        (1.81, "candidate", "coder2",
         {"round": 0, "id": "c2.0", "usable": True, "problems": ["no tests in the reply"],
          "code": CODE_2, "tests": "", "explanation": ""}),
        (2.10, "model_call", "test_designer",
         {**call, "prompt_tokens": 300, "completion_tokens": 0, "cost_usd": 0.0,
          "latency_ms": 2050.0, "error": "HTTP 429: rate limited"}),
        (2.11, "error", "test_designer",
         {"type": "ModelCallError", "message": "HTTP 429: rate limited, 4 retries spent"}),
        (2.95, "execution", "executor",
         {"candidate": "c1.0", "status": "ok", "load_error": None, "trusted": "1/1",
          "generated": "1/1", "calls": {"ok": 200}, "cluster": 0}),
        (2.95, "execution", "executor",
         {"candidate": "c2.0", "status": "rejected", "load_error": None, "trusted": "0/1",
          "generated": "0/1", "calls": {"ok": 200}, "cluster": 1}),
        (2.96, "verdict", "verifier",
         {"verdict": "verified", "confidence": 0.93, "selected": "c1.0", "reasons": [reason],
          "clusters": clusters, "counterexamples": [counterexample], "notes": [],
          "alternatives": [], "duration_ms": 850.0}),
        (3.20, "execution", "executor",
         {"candidate": "c1.0", "final": True, "exit_code": 0, "stdout": "[3, 1, 2]\n",
          "stderr": "", "result": [3, 1, 2], "error": None, "artifacts": [plot]}),
        (3.21, "run_finished", None,
         {"verdict": "verified", "confidence": 0.93, "error": None, "usage": {},
          "duration_ms": 3210.0}),
    ]  # fmt: skip


def write_events(
    writer: RunWriter, run_id: str, *, t0: float = T0, upto: int | None = None
) -> None:
    for seq, (offset, kind, agent, data) in enumerate(sample_events(run_id)[:upto]):
        writer(Event(run_id=run_id, seq=seq, time=t0 + offset, kind=kind, agent=agent, data=data))  # type: ignore[arg-type]


def sample_solution(run_id: str, artifacts: list[Artifact] | None = None) -> Solution:
    return Solution(
        run_id=run_id,
        task=TASK,
        verdict=Verdict.VERIFIED,
        confidence=0.93,
        code=CODE_1,
        explanation="keep a set of seen items",
        result=[3, 1, 2],
        stdout="[3, 1, 2]\n",
        artifacts=artifacts
        if artifacts is not None
        else [Artifact(name="plot.png", mime_type="image/png", data=tiny_png())],
        usage={
            "coder1": AgentUsage(
                calls=1, prompt_tokens=412, completion_tokens=188, cost_usd=0.000175
            )
        },
        rounds=1,
        reasons=["c1.0 passes every trusted example; c2.0 fails dedupe([3, 1, 3, 2, 1])"],
        duration_ms=3210.0,
    )


def record_sample(store: RunStore, run_id: str, *, t0: float = T0) -> RunWriter:
    writer = store.open_run(
        run_id, task=TASK, config={"candidates": 2}, models={"coder": "gpt-4o-mini"}
    )
    write_events(writer, run_id, t0=t0)
    writer.finish(sample_solution(run_id))
    return writer


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "runs"
    monkeypatch.setenv("MCODEACT_RUNS_DIR", str(root))
    yield root
