"""multiagent-codeact: code checked by execution, not trusted on the model's word."""

from typing import TYPE_CHECKING, Any

from .domain import (
    AgentUsage,
    Artifact,
    Candidate,
    ExecError,
    ExecResult,
    Solution,
    Task,
    Verdict,
)
from .errors import MCAError
from .verify import report as _report  # noqa: F401  (completes Solution's schema)

if TYPE_CHECKING:
    from .config import PipelineConfig
    from .models import ModelConfig
    from .pipeline import asolve, solve
    from .pipeline_file import load_pipeline
    from .streaming import RunStream, stream

__version__ = "0.1.0"

# The pipeline pulls in AutoGen and openai (about a second to import): load it on first use, so
# `mcodeact sandbox ...` and `import multiagent_codeact.verify` stay fast.
_LAZY = {
    "solve": "pipeline",
    "asolve": "pipeline",
    "PipelineConfig": "config",
    "ModelConfig": "models",
    "load_pipeline": "pipeline_file",
    "stream": "streaming",
    "RunStream": "streaming",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'multiagent_codeact' has no attribute {name!r}")


__all__ = [
    "AgentUsage",
    "Artifact",
    "Candidate",
    "ExecError",
    "ExecResult",
    "MCAError",
    "ModelConfig",
    "PipelineConfig",
    "RunStream",
    "Solution",
    "Task",
    "Verdict",
    "__version__",
    "asolve",
    "load_pipeline",
    "solve",
    "stream",
]
