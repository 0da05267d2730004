"""multiagent-codeact: code checked by execution, not trusted on the model's word."""

from .domain import Artifact, Candidate, ExecError, ExecResult, Task, Verdict
from .errors import MCAError

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "Candidate",
    "ExecError",
    "ExecResult",
    "MCAError",
    "Task",
    "Verdict",
    "__version__",
]
