"""The pipeline's settings: one pydantic schema, the same for Python callers and YAML files."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .limits import Limits
from .models import ModelConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentModels(_Strict):
    """Per-role models; a role left out uses the pipeline's `model`."""

    coder: ModelConfig | None = None
    test_designer: ModelConfig | None = None
    judge: ModelConfig | None = None


class BudgetConfig(_Strict):
    max_total_tokens: int | None = Field(None, gt=0)
    max_cost_usd: float | None = Field(None, gt=0)


class VerifyConfig(_Strict):
    n_inputs: int = Field(200, ge=0, le=5000, description="differential inputs per task")
    call_timeout_s: float = Field(1.0, gt=0, le=60)
    threshold: float = Field(0.8, gt=0, le=1, description="confidence needed to verify")


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
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
