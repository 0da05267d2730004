"""A check, at the HTTP layer, that a 200 to POST /chat/completions is Chat Completions at all.

A base_url that points at a web UI, a proxy's login page or another JSON API gets a 200 that
AutoGen cannot read: it fails later with an AttributeError about `usage`, or yields an empty
reply, and the run looks like a model that said nothing. The check runs as an httpx response
hook on the client the openai SDK sends through, sees the real status and content type, and
raises `NotChatCompletionsError`; the SDK passes its own errors through unwrapped, so the
metered client can turn it into a `ModelProtocolError` with what the server sent.
"""

from __future__ import annotations

import json

import httpx2
import openai

__all__ = ["NotChatCompletionsError", "check_chat_reply", "install_check"]

_SNIPPET_BYTES = 200


class NotChatCompletionsError(openai.APIResponseValidationError):
    """A 200 reply to a chat completion request that is not one; `what` describes it."""

    def __init__(self, response: httpx2.Response, what: str) -> None:
        super().__init__(response, None, message=f"not a Chat Completions reply: {what}")
        self.what = what


async def check_chat_reply(response: httpx2.Response) -> None:
    """Raise NotChatCompletionsError for a 200 to POST .../chat/completions that is not JSON
    with `choices` (or, for a stream, not server-sent events). Other replies pass untouched:
    error statuses are the SDK's to map."""
    request = response.request
    if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
        return
    if response.status_code != 200:
        return
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if _asked_to_stream(request):
        if ctype == "text/event-stream":
            return
        raise NotChatCompletionsError(response, _describe(ctype, await _snippet(response)))
    if ctype == "application/json" or ctype.endswith("+json"):
        body = await response.aread()  # httpx keeps it: the SDK reads the same bytes
        try:
            data = json.loads(body)
        except ValueError:
            raise NotChatCompletionsError(
                response, f"HTTP 200 with invalid JSON: {_text(body)!r}"
            ) from None
        if isinstance(data, dict) and isinstance(data.get("choices"), list):
            return
        raise NotChatCompletionsError(
            response, f"HTTP 200 with JSON that has no 'choices': {_text(body)!r}"
        )
    raise NotChatCompletionsError(response, _describe(ctype, await _snippet(response)))


def install_check(client: httpx2.AsyncClient) -> httpx2.AsyncClient:
    """Add the check to `client`'s response hooks (once); returns the client."""
    hooks = client.event_hooks
    if check_chat_reply not in hooks["response"]:
        client.event_hooks = {**hooks, "response": [*hooks["response"], check_chat_reply]}
    return client


def _asked_to_stream(request: httpx2.Request) -> bool:
    try:
        body = json.loads(request.content or b"{}")
    except (ValueError, httpx2.RequestNotRead):
        return False
    return isinstance(body, dict) and body.get("stream") is True


async def _snippet(response: httpx2.Response) -> bytes:
    """The first bytes of the body, without reading all of an endless one."""
    got = b""
    async for chunk in response.aiter_bytes():
        got += chunk
        if len(got) >= _SNIPPET_BYTES:
            break
    return got


def _describe(ctype: str, body: bytes) -> str:
    kind = ctype or "no content type"
    return f"HTTP 200 with {kind}: {_text(body)!r}" if body else f"HTTP 200 with {kind}, empty"


def _text(body: bytes) -> str:
    text = " ".join(body[:_SNIPPET_BYTES].decode("utf-8", "replace").split())
    return text if len(text) <= 80 else text[:79] + "…"
