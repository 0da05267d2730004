"""Cross-checking independent implementations by execution; no model involved."""

from .engine import averify, verify
from .report import (
    CandidateEvidence,
    Cell,
    ClusterEvidence,
    Counterexample,
    Evidence,
    TestEvidence,
    VerificationReport,
)
from .scoring import ScoringParams

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
