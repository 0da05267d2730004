"""The pipeline's settings: one pydantic schema, the same for Python callers and YAML files."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .limits import Limits
from .models import ModelConfig
from .models.config import display_url
from .sandbox.inputs import DEFAULT_MAX_INPUT_MB


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentModels(_Strict):
    """Per-role models; a role left out uses the pipeline's `model`."""

    coder: ModelConfig | None = None
    test_designer: ModelConfig | None = None
    judge: ModelConfig | None = None
    optimizer: ModelConfig | None = None


class BudgetConfig(_Strict):
    max_total_tokens: int | None = Field(None, gt=0)
    max_cost_usd: float | None = Field(None, gt=0)


class VerifyConfig(_Strict):
    n_inputs: int = Field(200, ge=0, le=5000, description="differential inputs per task")
    call_timeout_s: float = Field(1.0, gt=0, le=60)
    threshold: float = Field(0.8, gt=0, le=1, description="confidence needed to verify")
    adjudicate: int = Field(
        1,
        ge=0,
        le=10,
        description="at most this many times a run asks the test designer, from the task alone, "
        "what the function must return where rival behaviours disagree (0: never)",
    )


class OptimizerConfig(_Strict):
    """The optimizer: after verification, rewrites that are proven equivalent and faster."""

    enabled: bool = False
    min_speedup: float = Field(1.1, ge=1.0, description="needed over the original, NET style")
    time_budget_s: float = Field(
        0.05, gt=0, description="a solution whose largest timed call is faster is left alone..."
    )
    max_exponent: float = Field(1.5, gt=0, description="...when it also grows no faster than this")
    max_rewrites: int = Field(3, ge=1, le=10, description="rewrites asked of the model at most")
    repeats: int = Field(5, ge=3, le=50, description="timings per input")
    stop_s: float = Field(0.1, gt=0, le=10, description="inputs stop growing past this per call")
    call_timeout_s: float = Field(2.0, gt=0, le=60)
    n_inputs: int = Field(100, ge=0, le=5000, description="differential inputs, if none given")


class PipelineConfig(_Strict):
    version: Literal[1] = 1
    model: ModelConfig | str | None = Field(
        None, description="the default model; None reads MCODEACT_MODEL and friends"
    )
    agents: AgentModels = Field(default_factory=AgentModels)
    candidates: int = Field(4, ge=1, le=16, description="independent implementations")
    repair_rounds: int = Field(3, ge=0, le=10)
    test_designer: bool = True
    judge: bool = False
    temperatures: list[float] = Field(
        default_factory=lambda: [0.2, 0.6, 0.9, 1.0], min_length=1, description="cycled"
    )
    limits: Limits = Field(default_factory=lambda: Limits(timeout_s=30.0))
    allow_imports: list[str] = Field(default_factory=list)
    isolation: Literal["bwrap", "process"] = "bwrap"
    sandbox_pool: int = Field(4, ge=1, le=64)
    input_mb: int = Field(
        DEFAULT_MAX_INPUT_MB, ge=1, description="the most a task's input files may hold, in MB"
    )
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)

    def public_dump(self) -> dict[str, Any]:
        """The settings as JSON for logs and run folders: server URLs lose their user info and
        query string, where tokens hide. (Keys are never in the config: only their variable's
        name is.)"""
        public: dict[str, Any] = _public(self.model_dump(mode="json"))
        return public


def _public(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: display_url(v) if k == "base_url" and isinstance(v, str) else _public(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value
