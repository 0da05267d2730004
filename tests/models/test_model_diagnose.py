"""Which failures mean a broken set-up, and the line that says what to fix."""

from __future__ import annotations

import socket
import ssl

import httpx2
import openai
import pytest
from model_helpers import config_for, messages

from multiagent_codeact.errors import ModelConnectionError, ModelProtocolError
from multiagent_codeact.models import make_client
from multiagent_codeact.models.diagnose import diagnose, scrub
from multiagent_codeact.scripted import Reply, Rule, Script, ScriptedModelServer

REQUEST = httpx2.Request("POST", "http://llm.example:8000/v1/chat/completions")
URL = "http://llm.example:8000/v1"


def connection_error(cause: BaseException) -> openai.APIConnectionError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise httpx2.ConnectError(str(inner)) from inner
    except httpx2.ConnectError as outer:
        error = openai.APIConnectionError(request=REQUEST)
        error.__cause__ = outer
        return error


@pytest.mark.parametrize(
    ("cause", "words"),
    [
        (socket.gaierror(-2, "Name or service not known"), "'llm.example' does not resolve"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS handshake"),
        (OSError(113, "No route to host"), "No route to host"),
    ],
)
async def test_unreachable_servers(cause: BaseException, words: str) -> None:
    error = await diagnose(connection_error(cause), config_for(URL), endpoint=URL)
    assert isinstance(error, ModelConnectionError)
    assert words in str(error) and "--base-url" in str(error)


async def test_transient_faults_are_not_diagnosed() -> None:
    config = config_for(URL)
    assert await diagnose(openai.APITimeoutError(request=REQUEST), config, endpoint=URL) is None
    dropped = openai.APIConnectionError(request=REQUEST)
    dropped.__cause__ = httpx2.ReadError("connection reset")
    assert await diagnose(dropped, config, endpoint=URL) is None


def test_scrub_hides_the_key_but_not_short_words() -> None:
    assert scrub("bad key sk-abcdef123456", "sk-abcdef123456") == "bad key [REDACTED]"
    assert scrub("not-needed here", "not-needed") == "not-needed here"


@pytest.mark.parametrize("stream", [False, True])
async def test_an_html_page_is_not_chat_completions(stream: bool) -> None:
    page = Reply(body="<html><title>Login</title></html>", content_type="text/html")
    async with (
        ScriptedModelServer(Script([Rule(replies=[page])])) as server,
        make_client(config_for(server.base_url), agent="coder") as c,
    ):
        with pytest.raises(ModelProtocolError, match="text/html") as info:
            if stream:
                async for _ in c.create_stream(messages()):
                    pass
            else:
                await c.create(messages())
    assert "Login" in str(info.value) and info.value.attempts == 1
    assert len(server.requests) == 1  # not retried


async def test_a_404_lists_what_the_server_has() -> None:
    missing = Reply(status=404, content="model not found", error_code="model_not_found")
    async with (
        ScriptedModelServer(Script(default=missing), models=["a", "b"]) as server,
        make_client(config_for(server.base_url, model="zz"), agent="coder") as c,
    ):
        with pytest.raises(Exception, match="it has: a, b") as info:
            await c.create(messages())
    assert getattr(info.value, "available", None) == ["a", "b"]
