"""SandboxCodeExecutor behind a real AgentChat CodeExecutorAgent, running in a real sandbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from autogen_agentchat.agents import ApprovalRequest, ApprovalResponse, CodeExecutorAgent
from autogen_agentchat.messages import TextMessage
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock

from multiagent_codeact.errors import SandboxClosedError
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.sandbox.autogen import SandboxCodeExecutor, SandboxCodeResult

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # One worker: a job that is still running holds the only slot, which the cancellation
    # test uses to prove the job was killed.
    with Sandbox(Limits(timeout_s=10), pool_size=1) as sb:
        yield sb


def approve(request: ApprovalRequest) -> ApprovalResponse:
    return ApprovalResponse(approved=True, reason="test")


def agent_for(executor: SandboxCodeExecutor) -> CodeExecutorAgent:
    return CodeExecutorAgent("executor", code_executor=executor, approval_func=approve)


async def ask(agent: CodeExecutorAgent, content: str) -> str:
    response = await agent.on_messages(
        [TextMessage(content=content, source="coder")], CancellationToken()
    )
    assert isinstance(response.chat_message, TextMessage)
    return response.chat_message.content


async def test_agent_runs_a_python_block_and_returns_its_output(sandbox: Sandbox) -> None:
    agent = agent_for(SandboxCodeExecutor(sandbox))
    message = "Here you go:\n```python\nimport math\nprint(math.factorial(20))\n```\nDone."
    assert await ask(agent, message) == "2432902008176640000\n"


async def test_agent_refuses_a_non_python_block_clearly(sandbox: Sandbox) -> None:
    agent = agent_for(SandboxCodeExecutor(sandbox))
    output = await ask(agent, "```sh\necho hi\n```")
    assert "exit code: 1" in output
    assert "unsupported language 'sh'" in output
    assert "Python only" in output
    assert "hi\n" not in output


async def test_blocks_run_in_order_and_stop_at_the_first_failure(sandbox: Sandbox) -> None:
    executor = SandboxCodeExecutor(sandbox)
    blocks = [
        CodeBlock(code="print('one')", language="python"),
        CodeBlock(code="x = 1\n1 / 0", language="py"),
        CodeBlock(code="print('never')", language="python"),
    ]
    result = await executor.execute_code_blocks(blocks, CancellationToken())
    assert isinstance(result, SandboxCodeResult)
    assert result.exit_code == 1
    assert result.output.startswith("one\n")
    assert "ZeroDivisionError: division by zero" in result.output
    assert "never" not in result.output
    assert [r.ok for r in result.results] == [True, False]
    assert result.results[1].error is not None
    assert result.results[1].error.line == 2


async def test_refused_import_and_artifacts_come_back(sandbox: Sandbox) -> None:
    executor = SandboxCodeExecutor(sandbox)
    plot = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nresult = 'drawn'"
    ok = await executor.execute_code_blocks([CodeBlock(plot, "python3")], CancellationToken())
    assert ok.exit_code == 0
    assert ok.results[0].result == "drawn"
    assert [a.name for a in ok.artifacts] == ["figure_1.png"]
    assert ok.artifacts[0].data.startswith(PNG_MAGIC)
    assert "artifacts: figure_1.png (image/png" in ok.output

    refused = await executor.execute_code_blocks(
        [CodeBlock("import socket", "python")], CancellationToken()
    )
    assert refused.exit_code == 1
    assert "ImportNotAllowed: module 'socket' is not allowed" in refused.output


async def test_a_timeout_shows_in_the_output(sandbox: Sandbox) -> None:
    executor = SandboxCodeExecutor(sandbox, limits=Limits(timeout_s=1))
    started = time.monotonic()
    result = await executor.execute_code_blocks(
        [CodeBlock("import time\nprint('waiting', flush=True)\ntime.sleep(30)", "python")],
        CancellationToken(),
    )
    assert time.monotonic() - started < 5
    assert result.exit_code == 124
    assert result.results[0].timed_out
    assert "Timeout: the job ran past its wall-clock limit of 1.0 s" in result.output


async def test_cancelling_the_token_kills_the_running_job(sandbox: Sandbox) -> None:
    executor = SandboxCodeExecutor(sandbox, limits=Limits(timeout_s=30))
    token = CancellationToken()
    slow = asyncio.create_task(
        executor.execute_code_blocks([CodeBlock("import time\ntime.sleep(25)", "python")], token)
    )
    await asyncio.sleep(0.5)  # the job is running and holds the sandbox's only worker

    cancelled_at = time.monotonic()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    # With one worker this job can start only once the slow one is dead.
    result = await executor.execute_code_blocks(
        [CodeBlock("print('next')", "python")], CancellationToken()
    )
    assert result.output == "next\n"
    assert time.monotonic() - cancelled_at < 5  # freed by the kill, not by the 30 s limit


async def test_an_owned_sandbox_is_closed_by_stop_and_a_shared_one_is_not(
    sandbox: Sandbox,
) -> None:
    async with SandboxCodeExecutor(limits=Limits(timeout_s=5)) as owned:
        result = await owned.execute_code_blocks(
            [CodeBlock("print(2 + 2)", "")], CancellationToken()
        )
        assert result.output == "4\n"
        own_sandbox = owned.sandbox
    with pytest.raises(SandboxClosedError):
        own_sandbox.run("print(1)")

    shared = SandboxCodeExecutor(sandbox)
    await shared.stop()
    await shared.restart()
    assert shared.sandbox is sandbox
    assert sandbox.run("print(1)").stdout == "1\n"
