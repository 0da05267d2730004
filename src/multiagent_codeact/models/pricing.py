"""Prices of well-known models, so a run can report its cost without any setup.

List prices change; the table is a convenience, not a source of truth. Anything a user sets in
`ModelConfig.price` wins, and a model missing here costs 0 with `price_known=False` in its usage,
so an unpriced run is visible rather than silently "free".
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BUILTIN_PRICES", "Price", "cost_usd", "lookup_price"]


class Price(BaseModel):
    """USD per million tokens, input (prompt) and output (completion) priced apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(ge=0, description="USD per 1M prompt tokens")
    output_per_mtok: float = Field(ge=0, description="USD per 1M completion tokens")


def _p(input_per_mtok: float, output_per_mtok: float) -> Price:
    return Price(input_per_mtok=input_per_mtok, output_per_mtok=output_per_mtok)


# OpenAI list prices (standard tier, USD per 1M tokens), checked mid-2025.
BUILTIN_PRICES: dict[str, Price] = {
    "gpt-5": _p(1.25, 10.00),
    "gpt-5-mini": _p(0.25, 2.00),
    "gpt-5-nano": _p(0.05, 0.40),
    "gpt-4.1": _p(2.00, 8.00),
    "gpt-4.1-mini": _p(0.40, 1.60),
    "gpt-4.1-nano": _p(0.10, 0.40),
    "gpt-4o": _p(2.50, 10.00),
    "gpt-4o-mini": _p(0.15, 0.60),
    "o3": _p(2.00, 8.00),
    "o3-mini": _p(1.10, 4.40),
    "o4-mini": _p(1.10, 4.40),
    "o1": _p(15.00, 60.00),
    "gpt-4-turbo": _p(10.00, 30.00),
    "gpt-3.5-turbo": _p(0.50, 1.50),
}

# A dated snapshot ("gpt-4o-2024-08-06") is priced as its family; prefixes are not matched,
# so "gpt-4o-mini" never picks up the price of "gpt-4o".
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def lookup_price(model: str) -> Price | None:
    """The built-in price of `model`, or None when the table does not know it."""
    if model in BUILTIN_PRICES:
        return BUILTIN_PRICES[model]
    return BUILTIN_PRICES.get(_SNAPSHOT.sub("", model))


def cost_usd(price: Price | None, prompt_tokens: int, completion_tokens: int) -> float:
    """Cost of one call; 0 when the price is unknown (the usage records that separately)."""
    if price is None:
        return 0.0
    return (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1e6
