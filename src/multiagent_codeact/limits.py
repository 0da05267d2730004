"""Per-job resource limits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """What one job may use. Every bound is enforced by the kernel inside the job's process.

    `memory_mb` is address space the job may add on top of the warm interpreter it was forked
    from (numpy and matplotlib are already loaded there), so the figure means the same whatever
    the sandbox pre-imports.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(10.0, gt=0, le=3600, description="wall-clock limit")
    cpu_s: float | None = Field(None, gt=0, le=3600, description="CPU limit; default: timeout_s")
    memory_mb: int = Field(512, ge=16, le=1 << 20)
    max_processes: int = Field(32, ge=1, le=4096, description="processes and threads")
    max_file_mb: int = Field(64, ge=1, description="largest single file the job may write")
    max_open_files: int = Field(256, ge=16, le=65536)
    output_bytes: int = Field(1_000_000, ge=1024, description="cap per stream (stdout, stderr)")
    artifact_bytes: int = Field(32_000_000, ge=0, description="cap on all artifacts together")

    @property
    def effective_cpu_s(self) -> float:
        return self.cpu_s if self.cpu_s is not None else self.timeout_s
