"""The optimizer: rewrites of a verified solution, kept only when proven equivalent and faster.

`report` is cheap to import (Solution refers to it); `optimize` pulls in the sandbox, Hypothesis
and AutoGen, so it is loaded on first use.
"""

from typing import TYPE_CHECKING, Any

from .report import HotLine, OptimizationReport, Profile, Rejection, SizeTiming

if TYPE_CHECKING:
    from .optimizer import optimize

_LAZY = {"optimize": "optimizer"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["HotLine", "OptimizationReport", "Profile", "Rejection", "SizeTiming", "optimize"]
