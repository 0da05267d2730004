"""`new_http_client`: the SDK's default client on one TLS context per process, so a run's
client does not load the CA certificates again (~20 ms of CPU each)."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from multiagent_codeact.models.http import new_http_client, shared_ssl_context


def test_one_verifying_context_is_shared_by_every_client() -> None:
    ctx = shared_ssl_context()
    assert ctx is shared_ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_a_changed_ca_setting_gets_a_context_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    certifi = pytest.importorskip("certifi")

    before = shared_ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    assert shared_ssl_context() is not before


def test_each_client_closes_on_its_own_loop() -> None:
    async def one() -> bool:
        http = new_http_client()
        await http.aclose()
        return http.is_closed

    # Each asyncio.run is a new loop, as repeated solve() calls are: a client per run works.
    assert all(asyncio.run(one()) for _ in range(3))
