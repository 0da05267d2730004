"""`mcodeact doctor`: is this model endpoint usable, and if not, what to fix.

Four checks, each cheap: the key's variable, the server's model list, one short chat
completion (a few tokens), and one short streamed one (does it stream, does it report usage).
A failing chat call gives the same one-line diagnosis a run would stop with (diagnose.py).
"""

from __future__ import annotations

import os
import time

import openai
from autogen_core.models import CreateResult, LLMMessage, SystemMessage, UserMessage
from pydantic import BaseModel, ConfigDict

from ..errors import ModelError
from .client import MeteredChatClient, make_client
from .config import ModelConfig, display_url, read_api_key
from .diagnose import list_models

__all__ = ["Check", "check_endpoint"]

_ASK: list[LLMMessage] = [
    SystemMessage(content="You answer in one word."),
    UserMessage(content="Reply with the word OK.", source="doctor"),
]


class Check(BaseModel):
    """One check: `ok` is None when it was skipped (an earlier check failed)."""

    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool | None
    detail: str
    ends_run: bool = False
    """The failure is one a run would stop at (a broken endpoint), not advice."""


async def check_endpoint(config: ModelConfig) -> list[Check]:
    """Run the checks against `config`'s server; never raises for what the server does."""
    url = display_url(config.endpoint)
    env = config.api_key_env
    key_set = bool(os.environ.get(env, "").strip())
    checks = [
        Check(
            name="api key",
            ok=True,
            detail=f"${env} is set" if key_set else f"${env} is not set: sent as a keyless server",
        )
    ]
    http = openai.DefaultAsyncHttpxClient()
    client = make_client(
        config.model_copy(update={"max_retries": 0}), agent="doctor", http_client=http
    )
    try:
        listed = await list_models(http, config.endpoint, read_api_key(config))
        checks.append(_listing(config.model, url, listed))
        chat = await _chat(client, config)
        checks.append(chat)
        if chat.ok:
            checks.append(await _stream(client))
        else:
            checks.append(Check(name="streaming", ok=None, detail="skipped: chat failed"))
    finally:
        await client.close()
        await http.aclose()
    return checks


def _listing(model: str, url: str, listed: list[str] | None) -> Check:
    if listed is None:
        return Check(name="models", ok=None, detail=f"{url}/models gives no model list")
    shown = ", ".join(listed[:8]) + (", ..." if len(listed) > 8 else "")
    if model in listed:
        return Check(name="models", ok=True, detail=f"{model!r} is listed ({shown})")
    # Some servers (llama.cpp's) answer any name with the one model they have.
    detail = (
        f"{model!r} is not listed; the server has: {shown} (a one-model server may take any name)"
    )
    return Check(name="models", ok=False, detail=detail)


async def _chat(client: MeteredChatClient, config: ModelConfig) -> Check:
    started = time.perf_counter()
    try:
        result = await client.create(_ASK, extra_create_args={"max_tokens": 8})
    except ModelError as exc:
        return Check(name="chat", ok=False, detail=str(exc), ends_run=exc.ends_run)
    seconds = time.perf_counter() - started
    text = " ".join(str(result.content).split())[:40]
    usage = result.usage
    return Check(
        name="chat",
        ok=True,
        detail=(
            f"{config.model!r} answered {text!r} in {seconds:.1f} s "
            f"({usage.prompt_tokens} + {usage.completion_tokens} tokens)"
        ),
    )


async def _stream(client: MeteredChatClient) -> Check:
    chunks = 0
    final: CreateResult | None = None
    try:
        async for item in client.create_stream(_ASK, extra_create_args={"max_tokens": 8}):
            if isinstance(item, CreateResult):
                final = item
            else:
                chunks += 1
    except ModelError as exc:
        return Check(
            name="streaming",
            ok=False,
            detail=f"{exc}; set capabilities.stream: false for this model",
        )
    if final is None or not chunks:
        return Check(name="streaming", ok=False, detail="the stream sent no text")
    if client.usage.records and client.usage.records[-1].usage_estimated:
        return Check(
            name="streaming",
            ok=True,
            detail=(
                f"{chunks} chunks, but no token usage in streams: counts are estimated while "
                "replies stream (a live view); capabilities.stream: false keeps them exact"
            ),
        )
    return Check(name="streaming", ok=True, detail=f"{chunks} chunks, usage reported")
