"""`stream(task)`: the run's events as they happen (tokens included), then the Solution."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import multiagent_codeact as mca
from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.errors import ModelConnectionError
from multiagent_codeact.events import Event, Recorder
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.progress import TaskProgress
from multiagent_codeact.runlog import RunStore
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import Reply, Rule, Script, ScriptedModelServer

TASK = "Write a function `def add(a, b)` that returns a + b."
ADD = "## Explanation\nSum.\n\n## Code\n```python\ndef add(a, b):\n    return a + b\n```\n"
TESTS = "```python\nassert add(2, 3) == 5\n```"
SCRIPT = Script([Rule(role="coder", replies=[ADD]), Rule(role="test_designer", replies=[TESTS])])


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=20), pool_size=2) as sb:
        yield sb


def config(url: str) -> PipelineConfig:
    model = ModelConfig(model="m", base_url=url, api_key_env="MCA_STREAM_KEY", max_retries=0)
    return PipelineConfig(model=model, candidates=2, repair_rounds=0)


async def test_events_then_the_solution(sandbox: Sandbox, tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    async with ScriptedModelServer(SCRIPT) as server:
        run = mca.stream(TASK, config=config(server.base_url), sandbox=sandbox, store=store)
        with pytest.raises(RuntimeError, match="not finished"):
            run.solution  # noqa: B018
        events = [event async for event in run]
    assert events[0].kind == "run_started" and events[-1].kind == "run_finished"
    solution = run.solution
    assert solution.code is not None and "a + b" in solution.code
    assert events[-1].data["verdict"] == solution.verdict.value
    tokens = [e for e in events if e.kind == "token"]
    assert tokens and {e.agent for e in tokens} >= {"coder1", "coder2"}
    coder1 = "".join(e.data["text"] for e in tokens if e.agent == "coder1")
    assert coder1 == ADD  # the reply, piece by piece, as it streamed
    assert all(r.stream for r in server.requests)
    # Tokens are for watchers: the run log has the messages, not the pieces.
    logged = (tmp_path / solution.run_id / "events.jsonl").read_text().splitlines()
    kinds = [json.loads(line)["kind"] for line in logged]
    assert "token" not in kinds and "message" in kinds
    assert len(logged) == len(events) - len(tokens)


async def test_without_tokens_nothing_streams(sandbox: Sandbox) -> None:
    async with ScriptedModelServer(SCRIPT) as server:
        run = mca.stream(TASK, config=config(server.base_url), sandbox=sandbox, tokens=False)
        kinds = [event.kind async for event in run]
    assert "token" not in kinds
    assert not any(r.stream for r in server.requests)
    assert run.solution.code is not None


async def test_a_broken_endpoint_raises_after_its_events(sandbox: Sandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen: list[Event] = []
    with pytest.raises(ModelConnectionError) as info:
        async for event in mca.stream(
            TASK, config=config(f"http://127.0.0.1:{port}/v1"), sandbox=sandbox
        ):
            seen.append(event)
    assert seen[0].kind == "run_started"
    assert seen[-1].kind == "run_finished" and seen[-1].data["error_type"] == "ModelConnectionError"
    assert info.value.run_id == seen[0].run_id


async def test_leaving_early_cancels_the_run(sandbox: Sandbox, tmp_path: Path) -> None:
    slow = Script(default=Reply(content=ADD, delay_s=30.0))
    store = RunStore(tmp_path)
    async with ScriptedModelServer(slow) as server:
        async with mca.stream(
            TASK, config=config(server.base_url), sandbox=sandbox, store=store
        ) as run:
            first = await anext(run)
        assert first.kind == "run_started"
    assert store.get(first.run_id).status == "interrupted"
    with pytest.raises(StopAsyncIteration):
        await anext(run)


def test_progress_shows_who_is_writing_tokens_and_cost() -> None:
    watcher = TaskProgress("t", candidates=2, wants_tokens=True)
    rec = Recorder("r1", [watcher])
    assert rec.wants_tokens
    rec.emit("run_started")
    rec.emit("message", "user", to="coder1", content="Task")
    rec.emit("message", "user", to="coder2", content="Task")
    for piece in ("def ", "add", "(a, b)"):
        rec.emit_token("coder1", piece)
    assert watcher.activity() == "coder1 ▸ 3 tok · coder2 … · 0 tokens"
    rec.emit("model_call", "coder1", prompt_tokens=100, completion_tokens=20, cost_usd=0.0012,
             price_known=True)  # fmt: skip
    assert watcher.activity() == "coder2 … · 120 tokens · $0.0012"
    assert len(rec.events) == 4  # the tokens were not recorded


def test_sinks_that_do_not_ask_get_no_tokens() -> None:
    got: list[Event] = []
    rec = Recorder("r1", [got.append])
    assert not rec.wants_tokens
    rec.emit_token("coder1", "x")
    assert got == [] and rec.events == []
