"""Fixtures for the model-layer tests: a zero-wait backoff that records what it would wait."""

from __future__ import annotations

import pytest
from model_helpers import Sleeps

from multiagent_codeact.models import Backoff


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def backoff(sleeps: Sleeps) -> Backoff:
    # Jitter pinned to its ceiling so the schedule is predictable: 0.5, 1, 2, ...
    return Backoff(sleep=sleeps, uniform=lambda low, high: high)
