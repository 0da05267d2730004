"""The hardened sandbox: bubblewrap outside, a warm fork server inside, kernel limits per job."""

from ..domain import Artifact, ExecError, ExecResult
from ..limits import Limits
from .policy import DEFAULT_ALLOWED_IMPORTS
from .sandbox import DEFAULT_PRELOAD, ProcessIsolationWarning, Sandbox

__all__ = [
    "DEFAULT_ALLOWED_IMPORTS",
    "DEFAULT_PRELOAD",
    "Artifact",
    "ExecError",
    "ExecResult",
    "Limits",
    "ProcessIsolationWarning",
    "Sandbox",
]
