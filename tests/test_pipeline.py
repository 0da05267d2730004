"""solve end to end: the real openai client and AgentChat against a scripted server on loopback,
candidates run in the real sandbox."""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Iterator

import pytest

import multiagent_codeact as mca
from multiagent_codeact import Task, Verdict
from multiagent_codeact.config import BudgetConfig, PipelineConfig
from multiagent_codeact.errors import ModelCallError, ModelNotConfiguredError
from multiagent_codeact.events import Event
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.pipeline import as_task, asolve
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import ChatRequest, Reply, Rule, Script, ScriptedModelServer

KEY_ENV = "MCA_TEST_KEY"
SECRET = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def coder_reply(code: str, tests: str = "", explanation: str = "Done.") -> str:
    reply = f"## Explanation\n{explanation}\n\n## Code\n```python\n{code}\n```\n"
    if tests:
        reply += f"\n## Tests\n```python\n{tests}\n```\n"
    return reply


ADD_GOOD = coder_reply(
    "def add(a, b):\n    return a + b", "assert add(1, 2) == 3\nassert add(0, 0) == 0"
)
ADD_GOOD_2 = coder_reply(
    "def add(a, b):\n    total = a\n    total = total + b\n    return total",
    "assert add(2, 2) == 4\nassert add(-1, -1) == -2",
)
ADD_WRONG = coder_reply(
    "def add(a, b):\n    return a * b if a > 3 else a + b", "assert add(1, 2) == 3"
)
ADD_TESTS = "```python\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\nassert add(10, 5) == 15\n```"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=20), pool_size=4) as sb:
        yield sb


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, SECRET)
    return SECRET


def config_for(server: ScriptedModelServer, **overrides: object) -> PipelineConfig:
    model = ModelConfig(
        model="scripted-model", base_url=server.base_url, api_key_env=KEY_ENV, max_retries=1
    )
    settings: dict[str, object] = {"model": model, "candidates": 3, "repair_rounds": 2}
    settings.update(overrides)
    return PipelineConfig.model_validate(settings)


async def solve_with(
    script: Script, task: str | Task, sandbox: Sandbox, **overrides: object
) -> tuple[mca.Solution, list[Event], ScriptedModelServer]:
    events: list[Event] = []
    async with ScriptedModelServer(script) as server:
        solution = await asolve(
            task, config=config_for(server, **overrides), sinks=[events.append], sandbox=sandbox
        )
    return solution, events, server


async def test_sine_wave_returns_a_png(sandbox: Sandbox, key: str) -> None:
    code = (
        "import numpy as np\nimport matplotlib.pyplot as plt\n"
        "x = np.linspace(0, 2 * np.pi, 200)\nplt.plot(x, np.sin(x))\nplt.title('sine')\n"
        "result = round(float(np.sin(x).max()), 3)"
    )
    script = Script([Rule(role="coder", replies=[Reply(content=coder_reply(code))])])
    solution, events, _ = await solve_with(
        script, "Plot a sine wave using matplotlib and numpy", sandbox
    )
    png = solution.artifacts[0]
    assert png.mime_type == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert solution.result == 1.0
    assert solution.code is not None and "np.sin" in solution.code
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert "verdict" in kinds and "model_call" in kinds


async def test_computation_majority_wins_over_a_wrong_minority(sandbox: Sandbox, key: str) -> None:
    right = coder_reply("import math\nresult = math.comb(30, 12)", "assert result == 86493225")
    wrong = coder_reply("result = 30 * 29 * 28 // 6", "assert result > 0")
    script = Script(
        [Rule(role="coder", replies=[Reply(content=right), Reply(content=wrong)], cycle=True)]
    )
    solution, _, _ = await solve_with(
        script, "How many ways are there to choose 12 items out of 30?", sandbox, repair_rounds=0
    )
    assert solution.result == 86493225
    assert solution.verdict is not Verdict.FAILED
    assert solution.report is not None
    assert solution.report.selected is not None
    assert "comb" in solution.report.selected.code


async def test_function_task_is_repaired_from_a_counterexample(sandbox: Sandbox, key: str) -> None:
    # Two coders, no tests that tell them apart: round one is a tie (disputed), the second coder
    # gets the inputs on which it disagrees, fixes its code, and round two agrees.
    repairs: list[str] = []

    def handler(request: ChatRequest) -> str | None:
        if request.role != "coder":
            return None
        if "did not pass verification" in request.last_user:
            repairs.append(request.last_user)
            return ADD_GOOD_2  # an implementation of its own, not a copy of the other's
        return ADD_WRONG if "Solve it by first restating" in request.last_user else ADD_GOOD

    solution, events, _ = await solve_with(
        Script(handler=handler),
        "Write a function `def add(a, b)` that returns a + b.",
        sandbox,
        candidates=2,
        test_designer=False,
    )
    assert solution.verified, solution.reasons
    assert solution.code is not None and "*" not in solution.code
    assert len(repairs) == 1
    assert re.search(r"On `add\(\d+, -?\d+\)` your code returns -?\d+", repairs[0]), repairs[0]
    assert "not verified yet" in repairs[0]  # an unverified pick is not "independent" evidence
    verdicts = [e.data["verdict"] for e in events if e.kind == "verdict"]
    assert verdicts == ["disputed", "verified"]
    assert solution.rounds == 2


async def test_a_model_that_always_fails_ends_the_run_once_retries_are_spent(
    sandbox: Sandbox, key: str
) -> None:
    script = Script(default=Reply(status=500, content="upstream exploded"))
    events: list[Event] = []
    async with ScriptedModelServer(script) as server:
        with pytest.raises(ModelCallError, match="HTTP 500") as info:
            await asolve(
                "Write a function `def add(a, b)`.",
                config=config_for(server, repair_rounds=1),
                sinks=[events.append],
                sandbox=sandbox,
            )
    error = info.value
    assert error.ends_run and error.run_id == events[0].run_id
    assert "retries exhausted" in str(error) and "upstream exploded" in str(error)
    # The first call whose retries ran out ended the run: no repair round was asked.
    assert len(server.requests) <= 2 * 4
    fatal = [e for e in events if e.kind == "error" and e.data.get("ends_run")]
    assert len(fatal) == 1 and fatal[0].data["type"] == "ModelCallError"
    assert events[-1].kind == "run_finished" and events[-1].data["verdict"] == "failed"


async def test_rate_limits_are_retried_then_succeed(sandbox: Sandbox, key: str) -> None:
    seen: set[str] = set()

    def handler(request: ChatRequest) -> Reply | None:
        if request.role != "coder":
            return None
        first = request.last_user not in seen  # each coder's first attempt is rate limited
        seen.add(request.last_user)
        return Reply(status=429, retry_after_s=0.05) if first else Reply(content=ADD_GOOD)

    solution, events, _ = await solve_with(
        Script(handler=handler),
        "Write a function `def add(a, b)`.",
        sandbox,
        test_designer=False,
        repair_rounds=0,
    )
    assert solution.code is not None and "a + b" in solution.code
    calls = [e for e in events if e.kind == "model_call"]
    assert len(calls) == 3 and all(c.data["error"] is None for c in calls)
    assert [c.data["attempts"] for c in calls] == [2, 2, 2]
    assert sum(u.retries for u in solution.usage.values()) == 3


async def test_secrets_reach_neither_the_sandbox_nor_the_events(sandbox: Sandbox, key: str) -> None:
    snoop = coder_reply(
        "import os\nresult = sorted(os.environ.items())\nprint(dict(os.environ))",
        explanation=f"My key is {SECRET}.",
    )
    script = Script([Rule(role="coder", replies=[Reply(content=snoop)])])
    solution, events, server = await solve_with(
        script, "Print the environment.", sandbox, repair_rounds=0
    )
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"  # it was used
    assert SECRET not in json.dumps(solution.result)
    assert SECRET not in solution.stdout
    dumped = "\n".join(e.model_dump_json() for e in events)
    assert SECRET not in dumped
    assert "[REDACTED]" in dumped  # the explanation that quoted it was scrubbed


async def test_budget_stops_the_run_cleanly(sandbox: Sandbox, key: str) -> None:
    # Every coder answers differently every time, so no round can verify and only the budget
    # ends the run.
    answers = iter(range(1000))

    def handler(request: ChatRequest) -> str:
        return coder_reply(f"def add(a, b):\n    return a + b + {next(answers)}")

    solution, events, server = await solve_with(
        Script(handler=handler),
        "Write a function `def add(a, b)` that returns a + b.",
        sandbox,
        budget=BudgetConfig(max_total_tokens=2500),
        test_designer=False,
        repair_rounds=5,
    )
    assert solution.error is not None and "budget" in solution.error, solution
    assert solution.code is not None  # what was found before the budget ran out is kept
    assert any(e.data.get("type") == "BudgetExceeded" for e in events if e.kind == "error")
    assert len(server.requests) < 3 * 6  # stopped well before every round was asked
    assert events[-1].kind == "run_finished"


async def test_unusable_replies_become_feedback(sandbox: Sandbox, key: str) -> None:
    seen: list[str] = []

    def handler(request: ChatRequest) -> str | None:
        if request.role != "coder":
            return None
        seen.append(request.last_user)
        if len(request.messages) <= 2:
            return "I would add the two numbers together."  # no code at all
        return ADD_GOOD

    solution, _, _ = await solve_with(
        Script(handler=handler),
        "Write a function `def add(a, b)` that returns a + b.",
        sandbox,
        test_designer=False,
    )
    assert solution.code is not None and "a + b" in solution.code
    assert any("no code block" in text for text in seen)


def test_no_model_configured_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MCODEACT_MODEL", "MCODEACT_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ModelNotConfiguredError, match="MCODEACT_MODEL"):
        mca.solve("Add two numbers")


def test_as_task_finds_the_entry_point() -> None:
    assert as_task("Write a function `def is_prime(n)`").entry_point == "is_prime"
    assert as_task("Write a function named gcd that ...").entry_point == "gcd"
    assert as_task("What is 2**100?").entry_point is None
    with pytest.raises(ValueError, match="empty"):
        as_task("   ")


def test_recorded_config_hides_credentials_in_server_urls() -> None:
    model = ModelConfig(model="m", base_url="https://user:s3cret@llm.example:8443/v1?token=abc123")
    dumped = PipelineConfig(model=model).public_dump()
    assert dumped["model"]["base_url"] == "https://llm.example:8443/v1"
    assert "s3cret" not in json.dumps(dumped) and "abc123" not in json.dumps(dumped)


async def test_config_can_be_a_pipeline_file(
    sandbox: Sandbox, key: str, tmp_path: pathlib.Path
) -> None:
    script = Script([Rule(role="coder", replies=[Reply(content=ADD_GOOD)])])
    async with ScriptedModelServer(script) as server:
        pipeline = tmp_path / "p.yaml"
        pipeline.write_text(
            "version: 1\n"
            f"model: {{model: scripted-model, base_url: '{server.base_url}', "
            f"api_key_env: {KEY_ENV}}}\n"
            "candidates: 1\nrepair_rounds: 0\ntest_designer: false\n"
        )
        solution = await asolve("Write `def add(a, b)`.", config=pipeline, sandbox=sandbox)
    assert solution.code is not None and "a + b" in solution.code
    assert sum(u.calls for u in solution.usage.values()) == 1  # one coder, as the file says


async def test_a_program_that_fails_the_user_s_own_example_is_never_the_answer(
    sandbox: Sandbox, key: str
) -> None:
    wrong = coder_reply("def add(a, b):\n    return a - b", "assert add(2, 0) == 2")
    solution, _, _ = await solve_with(
        Script([Rule(role="coder", replies=[Reply(content=wrong)], cycle=True)]),
        "Write a function add(a, b) that returns the sum of a and b. assert add(2, 3) == 5",
        sandbox,
        candidates=2,
        repair_rounds=1,
        test_designer=False,
    )
    assert solution.verdict is Verdict.FAILED
    assert solution.code is None
    assert solution.error is not None and "assert add(2, 3) == 5" in solution.error
    assert solution.report is not None and solution.report.selected is not None  # still there
