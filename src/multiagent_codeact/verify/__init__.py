"""Cross-checking independent implementations by execution; no model involved."""

from typing import TYPE_CHECKING, Any

from ..domain import Solution
from ..optimize.report import OptimizationReport
from .report import (
    CandidateEvidence,
    Cell,
    ClusterEvidence,
    Counterexample,
    Evidence,
    TestEvidence,
    VerificationReport,
)

if TYPE_CHECKING:
    from .engine import averify, verify
    from .scoring import ScoringParams

Solution.model_rebuild(
    _types_namespace={
        "VerificationReport": VerificationReport,
        "OptimizationReport": OptimizationReport,
    }
)

# The engine imports Hypothesis and the sandbox (about half a second): load it on first use so
# reading reports and solutions stays cheap.
_LAZY = {"verify": "engine", "averify": "engine", "ScoringParams": "scoring"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CandidateEvidence",
    "Cell",
    "ClusterEvidence",
    "Counterexample",
    "Evidence",
    "ScoringParams",
    "TestEvidence",
    "VerificationReport",
    "averify",
    "verify",
]
