"""The scripted model server, driven through the real `openai` client and AgentChat."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import TaskResult
from autogen_agentchat.messages import ModelClientStreamingChunkEvent, TextMessage
from autogen_ext.models.openai import OpenAIChatCompletionClient
from pydantic import ValidationError

from multiagent_codeact.errors import MCAError
from multiagent_codeact.scripted import (
    ChatRequest,
    Reply,
    Rule,
    Script,
    ScriptedModelServer,
    ScriptFileError,
    ServerStateError,
    count_tokens,
)

CODE = "```python\ndef add(a, b):\n    return a + b\n```\nAdds two numbers."
MODEL_INFO: Any = {
    "vision": False,
    "function_calling": False,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


Serve = Callable[..., tuple[ScriptedModelServer, openai.OpenAI]]


def chat(role: str | None, user: str) -> list[Any]:
    system = [{"role": "system", "content": f"You are helpful.\n[role: {role}]"}] if role else []
    return [*system, {"role": "user", "content": user}]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start servers for a test and close them (and their clients) at its end."""
    opened: list[Any] = []

    def start(script: Script, **client_args: Any) -> tuple[ScriptedModelServer, openai.OpenAI]:
        server = ScriptedModelServer(script).start()
        client = openai.OpenAI(base_url=server.base_url, api_key="test", **client_args)
        opened.extend([client, server])
        return server, client

    yield start
    for thing in reversed(opened):
        thing.close()


def raw_request(
    server: ScriptedModelServer, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    host, port = server.base_url.removeprefix("http://").split("/")[0].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


# matching and order


def test_rules_match_by_role_then_by_regex(serve: Serve) -> None:
    script = Script(
        [
            Rule(role="coder", match=r"fizz\w*", replies=[Reply(content="fizz code")]),
            Rule(role="coder", replies=[Reply(content="other code")]),
            Rule(role="tester", replies=[Reply(content="tests")]),
            Rule(match=r"(?i)^hello.*world$", replies=[Reply(content="no role, regex")]),
        ]
    )
    server, client = serve(script, max_retries=0)

    def ask(role: str | None, user: str) -> str | None:
        reply = client.chat.completions.create(model="m", messages=chat(role, user))
        return reply.choices[0].message.content

    assert ask("coder", "write fizzbuzz") == "fizz code"
    assert ask("coder", "write add") == "other code"
    assert ask("tester", "write fizzbuzz") == "tests"
    assert ask(None, "Hello\nbig\nworld") == "no role, regex"  # re.S: `.` crosses lines
    assert server.calls_by_role() == {"coder": 2, "tester": 1, "": 1}
    assert [r.role for r in server.requests] == ["coder", "coder", "tester", None]


def test_replies_follow_request_order_then_last_repeats_or_cycles(serve: Serve) -> None:
    script = Script(
        [
            Rule(role="a", replies=[Reply(content="1"), Reply(content="2")]),
            Rule(role="b", replies=[Reply(content="x"), Reply(content="y")], cycle=True),
        ]
    )
    _, client = serve(script, max_retries=0)
    got = {
        role: [
            client.chat.completions.create(model="m", messages=chat(role, "go"))
            .choices[0]
            .message.content
            for _ in range(4)
        ]
        for role in ("a", "b")
    }
    assert got == {"a": ["1", "2", "2", "2"], "b": ["x", "y", "x", "y"]}


def test_handler_answers_first_and_none_falls_through_to_rules(serve: Serve) -> None:
    def handler(request: ChatRequest) -> Reply | str | None:
        return f"echo {request.last_user}" if "echo" in request.system else None

    script = Script([Rule(replies=[Reply(content="from rule")])], handler=handler)
    _, client = serve(script, max_retries=0)
    messages: list[Any] = [{"role": "system", "content": "echo"}, {"role": "user", "content": "hi"}]
    echoed = client.chat.completions.create(model="m", messages=messages)
    assert echoed.choices[0].message.content == "echo hi"
    ruled = client.chat.completions.create(model="m", messages=chat("coder", "hi"))
    assert ruled.choices[0].message.content == "from rule"


def test_no_match_is_a_500_that_says_why_and_is_not_retried(serve: Serve) -> None:
    server, client = serve(Script([Rule(role="coder", replies=["ok"])]), max_retries=2)
    with pytest.raises(openai.InternalServerError, match="no rule matched") as caught:
        client.chat.completions.create(model="m", messages=chat("judge", "is it right?"))
    assert "role='judge'" in str(caught.value)
    assert len(server.requests) == 1  # x-should-retry: false stops the client's retries


def test_a_crashing_handler_is_a_500_naming_the_exception(serve: Serve) -> None:
    def handler(request: ChatRequest) -> Reply | None:
        raise KeyError("boom")

    _, client = serve(Script(handler=handler), max_retries=0)
    with pytest.raises(openai.InternalServerError, match="handler raised KeyError"):
        client.chat.completions.create(model="m", messages=chat("coder", "x"))


# wire format


async def test_streaming_gives_the_same_text_and_usage_as_non_streaming() -> None:
    script = Script(default=Reply(content=CODE))
    async with (
        ScriptedModelServer(script) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client,
    ):
        messages = chat("coder", "write add")
        whole = await client.chat.completions.create(model="gpt-x", messages=messages)
        stream = await client.chat.completions.create(
            model="gpt-x", messages=messages, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
        plain = await client.chat.completions.create(model="gpt-x", messages=messages, stream=True)
        plain_chunks = [chunk async for chunk in plain]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content == CODE
    assert chunks[0].choices[0].delta.role == "assistant"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 1
    assert [c.choices[0].finish_reason for c in chunks[:-1]][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert all(c.usage is None for c in chunks[:-1])
    assert all(c.model == "gpt-x" and c.id == chunks[0].id for c in chunks)
    assert all(c.choices and c.usage is None for c in plain_chunks)
    assert whole.model == "gpt-x" and whole.object == "chat.completion"


def test_usage_follows_the_documented_token_rule(serve: Serve) -> None:
    _, client = serve(Script(default=Reply(content="x" * 10)), max_retries=0)
    messages: list[Any] = [
        {"role": "system", "content": "abcde"},
        {"role": "user", "content": "abcdefgh"},
    ]
    usage = client.chat.completions.create(model="m", messages=messages).usage
    assert usage is not None
    assert (count_tokens("abcde"), count_tokens("abcdefgh"), count_tokens("x" * 10)) == (2, 2, 3)
    assert usage.prompt_tokens == (2 + 1) + (2 + 1)
    assert (usage.completion_tokens, usage.total_tokens) == (3, 9)


async def test_finish_reason_length_plain_and_streamed() -> None:
    script = Script(default=Reply(content="def f(x):\n    return", finish_reason="length"))
    async with (
        ScriptedModelServer(script) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client,
    ):
        whole = await client.chat.completions.create(model="m", messages=chat("coder", "f"))
        stream = await client.chat.completions.create(
            model="m", messages=chat("coder", "f"), stream=True
        )
        reasons = [c.choices[0].finish_reason async for c in stream if c.choices]
    assert whole.choices[0].finish_reason == "length"
    assert reasons[-1] == "length" and set(reasons[:-1]) == {None}


def test_models_endpoint_lists_the_model(serve: Serve) -> None:
    _, client = serve(Script())
    assert [m.id for m in client.models.list()] == ["scripted-model"]
    assert client.models.retrieve("scripted-model").owned_by == "scripted"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-9")


def test_request_log_records_messages_headers_and_parameters(serve: Serve) -> None:
    server, client = serve(
        Script(default=Reply(content="ok")), max_retries=0, default_headers={"X-Run": "r1"}
    )
    parts = [{"type": "text", "text": "You review.\n[role: judge]"}]
    messages: list[Any] = [
        {"role": "system", "content": parts},
        {"role": "user", "content": "check this"},
    ]
    client.chat.completions.create(model="m7", messages=messages, temperature=0.3, seed=7)
    (request,) = server.requests
    assert request.model == "m7" and request.temperature == 0.3 and request.stream is False
    assert request.messages == messages and request.raw["seed"] == 7
    assert request.role == "judge" and request.last_user == "check this"
    assert request.headers["authorization"] == "Bearer test"
    assert request.headers["x-run"] == "r1"
    expected_tokens = count_tokens(request.system) + 1 + count_tokens("check this") + 1
    assert request.prompt_tokens == expected_tokens


# errors, retries, delays


def test_429_and_500_surface_as_openai_errors_without_retries(serve: Serve) -> None:
    script = Script(
        [
            Rule(role="a", replies=[Reply(status=429, retry_after_s=7, content="slow down")]),
            Rule(role="b", replies=[Reply(status=500)]),
            Rule(role="c", replies=[Reply(status=599)]),
        ]
    )
    _, client = serve(script, max_retries=0)
    with pytest.raises(openai.RateLimitError, match="slow down") as limited:
        client.chat.completions.create(model="m", messages=chat("a", "x"))
    assert limited.value.response.headers["retry-after"] == "7"
    assert limited.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model="m", messages=chat("b", "x"))
    assert failed.value.status_code == 500 and failed.value.type == "server_error"
    with pytest.raises(openai.InternalServerError, match="HTTP status 599"):
        client.chat.completions.create(model="m", messages=chat("c", "x"))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_retried_failure_succeeds_when_the_script_then_answers(serve: Serve, status: int) -> None:
    failure = Reply(status=status, retry_after_s=0.01)
    server, client = serve(Script([Rule(replies=[failure, "ok"])]))
    reply = client.with_options(max_retries=1).chat.completions.create(
        model="m", messages=chat("coder", "x")
    )
    assert reply.choices[0].message.content == "ok"
    first, second = server.requests
    assert second.received_at - first.received_at < 0.3  # Retry-After, not the >= 0.375 s backoff


def test_a_delayed_reply_times_the_client_out(serve: Serve) -> None:
    server, client = serve(Script(default=Reply(content="late", delay_s=3)), max_retries=0)
    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2).chat.completions.create(
            model="m", messages=chat("coder", "x")
        )
    assert time.perf_counter() - started < 1.0
    started = time.perf_counter()
    server.close()  # the handler is still sleeping: close must wake it
    assert time.perf_counter() - started < 1.0


async def test_delays_do_not_block_other_requests() -> None:
    script = Script(default=Reply(content="ok", delay_s=0.3))
    async with (
        ScriptedModelServer(script) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client,
    ):
        started = time.perf_counter()
        create = client.chat.completions.create
        calls = [create(model="m", messages=chat("c", "x")) for _ in range(6)]
        replies = await asyncio.gather(*calls)
        elapsed = time.perf_counter() - started
    assert [r.choices[0].message.content for r in replies] == ["ok"] * 6
    assert 0.3 <= elapsed < 0.9


async def test_concurrent_requests_each_take_the_next_reply_once() -> None:
    script = Script([Rule(replies=[Reply(content=str(i)) for i in range(20)])])
    async with (
        ScriptedModelServer(script) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client,
    ):
        create = client.chat.completions.create
        replies = await asyncio.gather(
            *(create(model="m", messages=chat("c", "x")) for _ in range(20))
        )
    assert sorted(int(r.choices[0].message.content or "") for r in replies) == list(range(20))
    assert len({r.id for r in replies}) == 20


async def test_a_streamed_request_answered_with_an_error_raises_before_any_chunk() -> None:
    script = Script(default=Reply(status=429, retry_after_s=3))
    async with (
        ScriptedModelServer(script) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as client,
    ):
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model="m", messages=chat("c", "x"), stream=True)


def test_close_does_not_hang_with_a_client_mid_request() -> None:
    server = ScriptedModelServer(Script(default=Reply(content="never", delay_s=30))).start()
    errors: list[BaseException] = []

    def call() -> None:
        with openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=0) as client:
            try:
                client.chat.completions.create(model="m", messages=chat("c", "x"))
            except openai.APIError as exc:
                errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.perf_counter()
    server.close()
    caller.join(5)
    assert time.perf_counter() - started < 1.0
    assert not caller.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], openai.APIConnectionError)


# robustness of the HTTP surface


def test_bad_json_is_a_400_with_an_openai_error_body(serve: Serve) -> None:
    server, _ = serve(Script(default=Reply(content="ok")))
    status, body = raw_request(server, "POST", "/v1/chat/completions", b"{not json")
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert "could not parse the JSON body" in body["error"]["message"]
    status, body = raw_request(server, "POST", "/v1/chat/completions", b"[1, 2]")
    assert status == 400 and "JSON object" in body["error"]["message"]
    assert server.requests == []


def test_a_request_missing_fields_is_a_400_naming_them(serve: Serve) -> None:
    server, client = serve(Script(default=Reply(content="ok")), max_retries=0)
    status, body = raw_request(server, "POST", "/v1/chat/completions", b'{"model": "m"}')
    assert status == 400 and "messages" in body["error"]["message"]
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="m", messages="not a list")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nothing", 404),
        ("POST", "/v2/chat/completions", 404),
        ("GET", "/v1/chat/completions", 405),
        ("DELETE", "/v1/models", 405),
        ("HEAD", "/v1/models", 501),
    ],
)
def test_unknown_paths_and_methods_answer_json_errors(
    serve: Serve, method: str, path: str, status: int
) -> None:
    server, _ = serve(Script())
    host, port = server.base_url.removeprefix("http://").split("/")[0].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, b"{}" if method == "POST" else None)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    assert response.status == status
    assert response.getheader("Content-Type") == "application/json"
    if method != "HEAD":
        assert set(json.loads(data)["error"]) == {"message", "type", "param", "code"}


def test_chunked_bodies_and_garbage_request_lines(serve: Serve) -> None:
    server, _ = serve(Script(default=Reply(content="ok")))
    host, port = server.base_url.removeprefix("http://").split("/")[0].split(":")
    body = json.dumps({"model": "m", "messages": chat("c", "x")}).encode()
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(
            "POST",
            "/v1/chat/completions",
            iter([body[:10], body[10:]]),
            {"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 200 and answer["choices"][0]["message"]["content"] == "ok"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and "error" in json.loads(payload)


def test_the_connection_stays_usable_after_an_error(serve: Serve) -> None:
    _, client = serve(Script(default=Reply(content="ok")), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("missing")
    reply = client.chat.completions.create(model="m", messages=chat("c", "x"))
    assert reply.choices[0].message.content == "ok"


# lifecycle


async def test_lifecycle_errors_and_idempotent_close() -> None:
    server = ScriptedModelServer(Script())
    with pytest.raises(ServerStateError, match="start"):
        _ = server.base_url
    async with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.base_url.endswith("/v1")
        with pytest.raises(ServerStateError, match="already started"):
            server.start()
    server.close()
    with pytest.raises(ServerStateError, match="closed"):
        server.start()
    assert isinstance(ServerStateError("x"), MCAError | RuntimeError)


# script files


def test_from_file_loads_yaml_and_json(tmp_path: Path, serve: Serve) -> None:
    yaml_file = tmp_path / "script.yaml"
    yaml_file.write_text(
        "rules:\n"
        "  - role: coder\n"
        "    match: 'sine'\n"
        "    replies:\n"
        "      - status: 429\n"
        "        retry_after_s: 0.01\n"
        "      - |\n"
        "        ```python\n"
        "        result = 1\n"
        "        ```\n"
        "default:\n"
        "  content: fallback\n"
    )
    script = Script.from_file(yaml_file)
    assert script.rules[0].replies[0].status == 429
    assert script.rules[0].replies[1].content == "```python\nresult = 1\n```\n"
    _, client = serve(script, max_retries=1)
    first = client.chat.completions.create(model="m", messages=chat("coder", "plot a sine"))
    assert first.choices[0].message.content == "```python\nresult = 1\n```\n"
    other = client.chat.completions.create(model="m", messages=chat("tester", "x"))
    assert other.choices[0].message.content == "fallback"

    json_file = tmp_path / "script.json"
    json_file.write_text(json.dumps({"rules": [{"replies": [{"content": "j"}], "cycle": True}]}))
    loaded = Script.from_file(json_file)
    assert loaded.rules[0].cycle and loaded.default is None


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "rules: [\n  - role: a\n", "line 2, column 3: invalid YAML"),
        ("bad.json", '{"rules": [}', "line 1, column 12: invalid JSON"),
        ("list.yaml", "- a\n- b\n", "must be a mapping"),
        ("key.yaml", "rules:\n  - replies: [ok]\n    rol: coder\n", "rules[0].rol: Extra inputs"),
        ("regex.yaml", "rules:\n  - match: '(unclosed'\n    replies: [ok]\n", "rules[0].match"),
        ("empty.yaml", "rules:\n  - role: a\n    replies: []\n", "rules[0].replies"),
        ("status.yaml", "default: {status: 302}\n", "default.status"),
    ],
)
def test_from_file_errors_name_the_file_and_the_key(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScriptFileError, match=r"[\s\S]*".join(["", name, ""])) as caught:
        Script.from_file(path)
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_from_file_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptFileError, match=r"cannot read script file .*nope\.yaml"):
        Script.from_file(tmp_path / "nope.yaml")


def test_reply_validation() -> None:
    with pytest.raises(ValidationError, match="status must be 200"):
        Reply(status=302)
    with pytest.raises(ValidationError):
        Reply(delay_s=-1)
    assert Rule.model_validate({"replies": ["hi"]}).replies == [Reply(content="hi")]


# AgentChat


@pytest.mark.parametrize("stream", [False, True])
async def test_an_agentchat_assistant_talks_to_the_server(stream: bool) -> None:
    script = Script([Rule(role="coder", match="add", replies=[Reply(content=CODE)])])
    async with ScriptedModelServer(script) as server:
        client = OpenAIChatCompletionClient(
            model="scripted-model",
            base_url=server.base_url,
            api_key="test",
            model_info=MODEL_INFO,
            stream_options={"include_usage": True},
        )
        agent = AssistantAgent(
            "coder",
            model_client=client,
            system_message="You write Python.\n[role: coder]",
            model_client_stream=stream,
        )
        try:
            events = [event async for event in agent.run_stream(task="write add(a, b)")]
        finally:
            await client.close()
    result = events[-1]
    assert isinstance(result, TaskResult)
    answer = result.messages[-1]
    assert isinstance(answer, TextMessage) and answer.content == CODE
    assert answer.models_usage is not None
    assert answer.models_usage.completion_tokens == count_tokens(CODE)
    streamed = [e.content for e in events if isinstance(e, ModelClientStreamingChunkEvent)]
    assert ("".join(streamed) == CODE) if stream else streamed == []
    assert server.calls_by_role() == {"coder": 1}
    assert server.requests[0].stream is stream
