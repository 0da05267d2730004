"""Helpers for the client tests (a unique module name: tests/ folders are not packages)."""

from __future__ import annotations

from dataclasses import dataclass, field

from autogen_core.models import LLMMessage, SystemMessage, UserMessage

from multiagent_codeact.models import ModelConfig


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep: returns at once and remembers the delays asked for."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def messages(role: str = "coder", ask: str = "add 2 and 2") -> list[LLMMessage]:
    return [
        SystemMessage(content=f"You write Python. [role: {role}]"),
        UserMessage(content=ask, source="user"),
    ]


def config_for(base_url: str, **fields: object) -> ModelConfig:
    return ModelConfig.model_validate(
        {"model": "scripted-model", "base_url": base_url, "timeout_s": 5.0} | fields
    )
