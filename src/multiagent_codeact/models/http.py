"""The HTTP client of a run's model calls, cheap to make: one TLS context per process.

`openai.DefaultAsyncHttpxClient()` builds a fresh `ssl.SSLContext` each time, loading the CA
certificates: about 20 ms of CPU per run, which a batch of many short runs pays once per task.
The context is what costs, and it is safe to share (between clients, threads and event loops),
so it is made once and every client gets it. The clients themselves stay one per run, opened
and closed on the run's own event loop, so no connection outlives its loop.
"""

from __future__ import annotations

import os
import ssl
import threading

import httpx2
import openai

__all__ = ["new_http_client", "shared_ssl_context"]

_lock = threading.Lock()
_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def shared_ssl_context() -> ssl.SSLContext:
    """The verifying TLS context httpx would make by default, made once per CA setting.

    Keyed by $SSL_CERT_FILE and $SSL_CERT_DIR, which httpx reads, so a changed setting gets
    a context of its own.
    """
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None:
            ctx = _contexts[key] = httpx2.create_ssl_context(verify=True, trust_env=True)
        return ctx


def new_http_client() -> httpx2.AsyncClient:
    """`openai.DefaultAsyncHttpxClient()` (the SDK's timeouts, limits and redirects) on the
    shared TLS context; the caller closes it (`aclose`)."""
    return openai.DefaultAsyncHttpxClient(verify=shared_ssl_context())
