"""multiagent-codeact: code checked by execution, not trusted on the model's word."""

from .domain import Artifact, ExecError, ExecResult
from .errors import MCAError

__version__ = "0.1.0"

__all__ = ["Artifact", "ExecError", "ExecResult", "MCAError", "__version__"]
