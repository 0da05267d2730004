"""The built-in price table and cost arithmetic."""

from __future__ import annotations

import pytest

from multiagent_codeact.models import BUILTIN_PRICES, Price, lookup_price
from multiagent_codeact.models.pricing import cost_usd


def test_known_models_and_their_dated_snapshots_are_priced() -> None:
    assert lookup_price("gpt-4o") == Price(input_per_mtok=2.5, output_per_mtok=10.0)
    assert lookup_price("gpt-4o-2024-08-06") == lookup_price("gpt-4o")
    assert lookup_price("gpt-4o-mini-2024-07-18") == lookup_price("gpt-4o-mini")


@pytest.mark.parametrize("model", ["llama3.1", "gpt-4o-custom", "my-gpt-4o", "", "GPT-4O"])
def test_unknown_models_have_no_price(model: str) -> None:
    # No prefix matching: "gpt-4o-custom" is not gpt-4o, and a guess would misreport cost.
    assert lookup_price(model) is None


def test_every_table_entry_is_sane() -> None:
    for name, price in BUILTIN_PRICES.items():
        assert 0 < price.input_per_mtok <= price.output_per_mtok, name


def test_cost_is_per_million_tokens_priced_apart() -> None:
    price = Price(input_per_mtok=2.0, output_per_mtok=8.0)
    assert cost_usd(price, 1_000_000, 0) == pytest.approx(2.0)
    assert cost_usd(price, 500, 250) == pytest.approx((500 * 2 + 250 * 8) / 1e6)
    assert cost_usd(None, 10**9, 10**9) == 0.0
