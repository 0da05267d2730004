"""One AgentChat agent per role instance, driven through run_stream so nothing goes unrecorded.

`agent.run()` drops inner events (DESIGN.md §3); consuming `run_stream()` gives every message
and streaming chunk. Chunks are not recorded (a reply would become hundreds of events): they go
out as transient `token` events to the sinks that want them, and the full message that follows
is recorded. Replies are streamed only when some sink wants tokens and the model can stream.
"""

from __future__ import annotations

import time
from functools import cache
from importlib import resources
from string import Template

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import TaskResult
from autogen_agentchat.messages import BaseChatMessage, ModelClientStreamingChunkEvent
from autogen_core.models import ChatCompletionClient

from ..events import Recorder


def prompt(name: str, **values: str) -> str:
    """A prompt from the package's prompts/ folder, with $placeholders filled (all required)."""
    return Template(_prompt_text(name)).substitute(values)


@cache
def _prompt_text(name: str) -> str:
    # Read once per process: every coder of every run asks for the same files.
    return (
        resources.files("multiagent_codeact").joinpath("prompts", f"{name}.md").read_text("utf-8")
    )


def prompt_lines(name: str) -> list[str]:
    """The lines of a list-style prompt file, without its header line."""
    return [line.strip() for line in prompt(name).splitlines()[1:] if line.strip()]


class Conversation:
    """A named agent with a memory of its own exchange: each `say` continues it."""

    def __init__(
        self,
        label: str,
        client: ChatCompletionClient,
        system_message: str,
        recorder: Recorder,
        *,
        stream: bool | None = None,
    ) -> None:
        self.label = label
        self.recorder = recorder
        if stream is None:  # only worth it when someone watches the tokens
            stream = recorder.wants_tokens and _can_stream(client)
        # AgentChat names must be identifiers.
        name = "".join(ch if ch.isalnum() else "_" for ch in label)
        self.agent = AssistantAgent(
            name=name,
            model_client=client,
            system_message=system_message,
            model_client_stream=stream,
        )

    async def say(self, message: str) -> str:
        """Send `message`; return the agent's reply text. Model errors propagate."""
        self.recorder.emit("message", agent="user", to=self.label, content=message)
        started = time.perf_counter()
        reply = ""
        async for item in self.agent.run_stream(task=message):
            if isinstance(item, TaskResult):
                last = item.messages[-1] if item.messages else None
                if isinstance(last, BaseChatMessage) and last.source != "user":
                    reply = last.to_model_text()
            elif isinstance(item, ModelClientStreamingChunkEvent):
                self.recorder.emit_token(self.label, item.content)
            elif isinstance(item, BaseChatMessage) and item.source == "user":
                continue  # our own message, recorded above
            else:
                usage = getattr(item, "models_usage", None)
                self.recorder.emit(
                    "message",
                    agent=self.label,
                    type=type(item).__name__,
                    content=item.to_model_text() if hasattr(item, "to_model_text") else str(item),
                    prompt_tokens=usage.prompt_tokens if usage else None,
                    completion_tokens=usage.completion_tokens if usage else None,
                    seconds=round(time.perf_counter() - started, 3),
                )
        return reply


def _can_stream(client: ChatCompletionClient) -> bool:
    """Our metered clients say whether their server streams; others are assumed to."""
    config = getattr(client, "config", None)
    capabilities = getattr(config, "capabilities", None)
    return bool(getattr(capabilities, "stream", True))
