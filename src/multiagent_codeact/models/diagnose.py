"""Which failures of a model request mean the set-up is broken, and what to tell the user.

A wrong base_url, a bad key or a model the server lacks fails every request the same way, so
retrying or going on with the other candidates only hides it behind a "failed" verdict. These
are recognised at the first request and become a `ModelEndpointError` whose one-line message
names the cause and the setting that fixes it. Transient faults (429, 5xx, timeouts, a dropped
connection) are not diagnosed here: the retry loop handles them.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from ..errors import (
    ModelAuthError,
    ModelConnectionError,
    ModelEndpointError,
    ModelNotFoundError,
    ModelProtocolError,
)
from .config import ENV_BASE_URL, KEYLESS_PLACEHOLDER, ModelConfig
from .protocol import NotChatCompletionsError

__all__ = ["ListModels", "diagnose", "list_models", "scrub"]

ListModels = Callable[[], Awaitable[list[str] | None]]
"""The model ids the server lists at GET /models; None when it does not answer with a list."""

_REDACTED = "[REDACTED]"
_MAX_SERVER_TEXT = 160
_MAX_LISTED = 12
_BASE_URL_HINT = f"--base-url (base_url in a pipeline file, ${ENV_BASE_URL})"


async def diagnose(
    exc: BaseException,
    config: ModelConfig,
    *,
    endpoint: str,
    key: str | None = None,
    models: ListModels | None = None,
) -> ModelEndpointError | None:
    """The typed, explained error for a broken set-up; None for anything else.

    `endpoint` is the server's URL fit for messages (no credentials); `key` is only used to
    keep it out of what the server echoed; `models` lists the server's models for a 404.
    """
    fields: dict[str, Any] = {"model": config.model, "base_url": endpoint}
    if isinstance(exc, NotChatCompletionsError):
        return ModelProtocolError(_not_an_api(endpoint, exc.what), status=200, **fields)
    if isinstance(exc, openai.APITimeoutError):
        return None
    if isinstance(exc, openai.APIConnectionError):
        why = _unreachable(exc, endpoint)
        return ModelConnectionError(why, **fields) if why is not None else None
    if not isinstance(exc, openai.APIStatusError):
        return None
    status, said = exc.status_code, scrub(_server_message(exc), key)
    fields["status"] = status
    if status == 401:
        return ModelAuthError(_unauthorized(config, endpoint, said, key), **fields)
    if status == 403:
        return ModelAuthError(
            f"the model server at {endpoint} refused access to model {config.model!r} with "
            f"this key (HTTP 403: {said}); use a key in ${config.api_key_env} that has "
            "access, or another --model",
            **fields,
        )
    if status == 404:
        listed = await models() if models is not None else None
        return ModelNotFoundError(
            _not_found(config, endpoint, said, listed), available=listed, **fields
        )
    if status == 405:
        return ModelProtocolError(
            _not_an_api(endpoint, f"HTTP 405 to POST /chat/completions: {said}"), **fields
        )
    return None


async def list_models(
    http: httpx2.AsyncClient, endpoint: str, key: str, *, timeout_s: float = 5.0
) -> list[str] | None:
    """GET {endpoint}/models as the OpenAI API has it: the ids, or None when it is not there."""
    try:
        response = await http.get(
            f"{endpoint.rstrip('/')}/models",
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout_s,
        )
        data = response.json() if response.status_code == 200 else None
    except (httpx2.HTTPError, ValueError):
        return None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    return [str(m["id"]) for m in items if isinstance(m, dict) and m.get("id") is not None]


def scrub(text: str, key: str | None) -> str:
    """`text` without the key (a server may echo it back in its error message)."""
    if key and key != KEYLESS_PLACEHOLDER and len(key) >= 8:
        return text.replace(key, _REDACTED)
    return text


# -- the messages --------------------------------------------------------------------------


def _unreachable(exc: openai.APIConnectionError, endpoint: str) -> str | None:
    """Why nothing answers at `endpoint`, or None for a transient fault (worth a retry)."""
    host = urlsplit(endpoint).hostname or endpoint
    head = f"cannot connect to the model server at {endpoint}"
    causes = list(_causes(exc))  # the most specific cause wins, wherever it is in the chain
    tls = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
    if tls is not None:
        reason = getattr(tls, "reason", None) or type(tls).__name__
        return (
            f"{head}: the TLS handshake failed ({reason}); if the server speaks plain "
            f"HTTP, use http:// in {_BASE_URL_HINT}"
        )
    if any(isinstance(c, socket.gaierror) for c in causes):
        return f"{head}: the host name {host!r} does not resolve; check {_BASE_URL_HINT}"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return (
            f"{head}: connection refused (nothing is listening there); start the server, "
            f"or point {_BASE_URL_HINT} at the right host and port"
        )
    connect = next((c for c in causes if isinstance(c, httpx2.ConnectError)), None)
    if connect is not None:
        detail = " ".join(str(connect).split()) or type(connect).__name__
        return f"{head}: {detail}; check {_BASE_URL_HINT} and that the server is up"
    return None


def _unauthorized(config: ModelConfig, endpoint: str, said: str, key: str | None) -> str:
    env = config.api_key_env
    if key in (None, KEYLESS_PLACEHOLDER):
        return (
            f"the model server at {endpoint} wants an API key (HTTP 401: {said}), but ${env} "
            f"is not set; export {env}=<key> (or name the key's variable in api_key_env)"
        )
    return (
        f"the model server at {endpoint} rejected the API key in ${env} (HTTP 401: {said}); "
        f"set {env} to a valid key for this server"
    )


def _not_found(config: ModelConfig, endpoint: str, said: str, listed: list[str] | None) -> str:
    model = config.model
    if listed is None:
        return (
            f"the model server at {endpoint} answered HTTP 404 to POST /chat/completions ({said}) "
            f"and lists no models at GET /models; check {_BASE_URL_HINT}: "
            "OpenAI-compatible servers usually serve under /v1"
        )
    if model in listed:
        return (
            f"the model server at {endpoint} lists model {model!r} but answered HTTP 404 to POST "
            f"/chat/completions ({said}); check {_BASE_URL_HINT}"
        )
    shown = ", ".join(listed[:_MAX_LISTED]) + (", ..." if len(listed) > _MAX_LISTED else "")
    has = f"it has: {shown}" if listed else "it lists no models at all"
    return (
        f"model {model!r} is not available at {endpoint} (HTTP 404: {said}); {has}; "
        "pass one with --model (model in a pipeline file)"
    )


def _not_an_api(endpoint: str, what: str) -> str:
    return (
        f"the server at {endpoint} did not answer as an OpenAI-compatible Chat Completions API "
        f"({what}); check {_BASE_URL_HINT}: it should be the API's root, for most servers "
        "ending in /v1"
    )


def _server_message(exc: openai.APIStatusError) -> str:
    """What the server said, from an OpenAI-style body or its raw text, on one short line."""
    body: Any = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        text = message if isinstance(message, str) else json.dumps(body)[:_MAX_SERVER_TEXT]
    elif isinstance(body, str):
        text = body
    else:
        try:
            text = exc.response.text
        except (httpx2.ResponseNotRead, UnicodeDecodeError):
            text = ""
    text = " ".join(text.split()) or "no message"
    return text if len(text) <= _MAX_SERVER_TEXT else text[: _MAX_SERVER_TEXT - 1] + "…"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
