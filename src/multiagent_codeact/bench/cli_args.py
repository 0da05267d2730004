"""Argument types the benchmark scripts share."""

from __future__ import annotations

import argparse


def parse_rates(text: str) -> list[float]:
    """`0.2,0.4` as [0.2, 0.4], each within [0, 1]; argparse's error otherwise."""
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not rates or any(not 0.0 <= r <= 1.0 for r in rates):
        raise argparse.ArgumentTypeError(f"rates must lie in [0, 1], got {text!r}")
    return rates
