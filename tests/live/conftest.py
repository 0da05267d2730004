"""The live-model tests are opt-in: `pytest -m live` (or MCA_LIVE=1) with the model installed
by scripts/live-model. Otherwise they are skipped, saying which of the two is missing, so the
default suite stays offline and fast."""

from __future__ import annotations

import os

import pytest

from multiagent_codeact.bench.live_server import live_model_missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    opted_in = "live" in (config.option.markexpr or "") or os.environ.get("MCA_LIVE") == "1"
    missing = live_model_missing()
    for item in items:
        if "live" not in item.keywords:
            continue
        if missing is not None:
            item.add_marker(pytest.mark.skip(reason=missing))
        elif not opted_in:
            item.add_marker(
                pytest.mark.skip(reason="live-model tests are opt-in: pytest -m live (MCA_LIVE=1)")
            )
