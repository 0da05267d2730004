"""The hardened sandbox: bubblewrap outside, a warm fork server inside, kernel limits per job."""

from ..domain import Artifact, ExecError, ExecResult
from ..limits import Limits
from .policy import DEFAULT_ALLOWED_IMPORTS, PRESET_LIBRARIES
from .sandbox import DEFAULT_PRELOAD, PreloadWarning, ProcessIsolationWarning, Sandbox

__all__ = [
    "DEFAULT_ALLOWED_IMPORTS",
    "DEFAULT_PRELOAD",
    "PRESET_LIBRARIES",
    "Artifact",
    "ExecError",
    "ExecResult",
    "Limits",
    "PreloadWarning",
    "ProcessIsolationWarning",
    "Sandbox",
]
