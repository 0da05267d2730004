"""Run a pipeline offline: every agent's model replaced by a script served on loopback.

This is how the examples and `--scripted` run without a model service. Only the model is
scripted; the openai client, the agents, the sandbox and the verifier all run for real. The
replies come from a script file (see `multiagent_codeact.scripted.Script.from_file`):

    with scripted_server("examples/scripted/sine_wave.yaml") as server:
        solution = solve(task, config=scripted_config(config, server.base_url))
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .config import AgentModels, PipelineConfig
from .errors import InputFileError
from .models import ModelConfig
from .scripted import Script, ScriptedModelServer, ScriptFileError

__all__ = ["SCRIPTED_MODEL", "scripted_config", "scripted_server"]

SCRIPTED_MODEL = "scripted"
# A variable nobody sets: a real key in the environment must not be sent, even to loopback.
_NO_KEY_ENV = "MCODEACT_SCRIPTED_KEY"


@contextmanager
def scripted_server(script: str | os.PathLike[str]) -> Iterator[ScriptedModelServer]:
    """A started server answering from the script file; InputFileError when it is malformed."""
    try:
        loaded = Script.from_file(script)
    except ScriptFileError as exc:
        raise InputFileError(str(exc)) from None
    with ScriptedModelServer(loaded, model=SCRIPTED_MODEL) as server:
        yield server


def scripted_config(config: PipelineConfig, base_url: str) -> PipelineConfig:
    """`config` with every agent (coders, test designer, judge) on the server at `base_url`."""
    model = ModelConfig(
        model=SCRIPTED_MODEL, base_url=base_url, api_key_env=_NO_KEY_ENV, max_retries=1
    )
    return config.model_copy(update={"model": model, "agents": AgentModels()})
