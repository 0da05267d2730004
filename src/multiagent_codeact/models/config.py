"""Which model to talk to, and how: a validated config that never holds the API key itself.

The key stays in the environment; the config only names the variable (`api_key_env`), so a
config can be logged, dumped to YAML or put in a run manifest without leaking a secret.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from autogen_core.models import ModelFamily, ModelInfo
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ModelNotConfiguredError
from .pricing import Price, lookup_price

__all__ = [
    "ENV_BASE_URL",
    "ENV_MODEL",
    "KEYLESS_PLACEHOLDER",
    "OPENAI_BASE_URL",
    "Capabilities",
    "ModelConfig",
    "display_url",
    "read_api_key",
    "resolve_model",
    "setup_help",
]

ENV_MODEL = "MCODEACT_MODEL"
ENV_BASE_URL = "MCODEACT_BASE_URL"
OPENAI_BASE_URL = "https://api.openai.com/v1"
# Local servers (Ollama, vLLM without --api-key) ignore the key, but the openai client wants one.
KEYLESS_PLACEHOLDER = "not-needed"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Capabilities(BaseModel):
    """What the model can do: the fields AutoGen's `ModelInfo` needs, plus two it lacks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vision: bool = False
    function_calling: bool = False
    json_output: bool = True
    structured_output: bool = False
    family: str = ModelFamily.UNKNOWN
    stream: bool = Field(
        default=True,
        description="the server can stream replies (server-sent events); a live view streams "
        "them token by token when it can",
    )
    stream_usage: bool = Field(
        default=True,
        description="the server reports token usage at the end of a stream when asked "
        "(stream_options.include_usage); turn off for servers that reject the option",
    )
    context_window: int | None = Field(
        default=None, gt=0, description="tokens; needed by remaining_tokens for non-OpenAI models"
    )

    def model_info(self) -> ModelInfo:
        """The dict AutoGen's clients and agents read."""
        return ModelInfo(
            vision=self.vision,
            function_calling=self.function_calling,
            json_output=self.json_output,
            structured_output=self.structured_output,
            family=self.family,
        )


# Longest prefix first: "gpt-4.1" must win over "gpt-4".
_OPENAI_FAMILIES: tuple[tuple[str, str], ...] = (
    ("gpt-5", ModelFamily.GPT_5),
    ("gpt-4.1", ModelFamily.GPT_41),
    ("gpt-4.5", ModelFamily.GPT_45),
    ("gpt-4o", ModelFamily.GPT_4O),
    ("gpt-4", ModelFamily.GPT_4),
    ("gpt-3.5", ModelFamily.GPT_35),
    ("o1", ModelFamily.O1),
    ("o3", ModelFamily.O3),
    ("o4", ModelFamily.O4),
)
_R1 = re.compile(r"(^|[-_/:])r1([-_/:.]|$)", re.IGNORECASE)


def default_capabilities(model: str, base_url: str | None) -> Capabilities:
    """OpenAI's models can do everything AutoGen asks about; a local server is assumed modest.

    Local defaults keep tools, images and structured output off so AutoGen refuses them with a
    clear message instead of a server failing obscurely; turn them on per model when it can.
    """
    if base_url is None:
        family = next((f for p, f in _OPENAI_FAMILIES if model.startswith(p)), ModelFamily.UNKNOWN)
        return Capabilities(
            vision=family != ModelFamily.GPT_35,
            function_calling=True,
            json_output=True,
            structured_output=True,
            family=family,
        )
    # R1-style models put their reasoning in <think> tags; AutoGen splits it out for this family.
    family = ModelFamily.R1 if _R1.search(model) else ModelFamily.UNKNOWN
    return Capabilities(family=family)


class ModelConfig(BaseModel):
    """One model endpoint and how to call it. Names the key's variable; never holds the key.

    `price` and `capabilities` default from `model` and `base_url` at validation, so a dump
    shows what a run assumed. `model_copy(update=...)` skips validation: use it for call
    parameters (temperature, max_tokens); for another model or server, build a new config.
    """

    # hide_input_in_errors: a key pasted into the wrong field must not be echoed by the error.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    model: str = Field(min_length=1, description="the model name the server knows")
    base_url: str | None = Field(
        default=None, description="an OpenAI-compatible endpoint; None means OpenAI itself"
    )
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="NAME of the environment variable holding the key"
    )
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    timeout_s: float = Field(default=120.0, gt=0, description="per request attempt")
    max_retries: int = Field(default=4, ge=0, description="retries after the first attempt")
    max_concurrency: int = Field(default=8, ge=1, description="requests in flight per client")
    price: Price | None = Field(
        default=None, description="None: the built-in table, or unknown (cost 0) if not there"
    )
    capabilities: Capabilities = Field(default_factory=Capabilities)
    cache_dir: Path | None = Field(default=None, description="on-disk response cache; None: off")

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        """Price and capabilities depend on the model and the server, so they default late."""
        if not isinstance(data, dict) or not isinstance(data.get("model"), str):
            return data
        data = dict(data)
        base_url = data.get("base_url")
        if data.get("price") is None:
            data["price"] = lookup_price(data["model"])
        given = data.get("capabilities")
        if given is None or isinstance(given, dict):
            # A partial dict overrides the defaults field by field.
            default = default_capabilities(
                data["model"], base_url if isinstance(base_url, str) else None
            )
            data["capabilities"] = default.model_dump() | (given or {})
        return data

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                "base_url must start with http:// or https://, "
                "for example http://localhost:11434/v1 (Ollama)"
            )
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _check_api_key_env(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(
                "api_key_env takes the NAME of an environment variable (like OPENAI_API_KEY), "
                "not the key itself"
            )
        return value

    @property
    def endpoint(self) -> str:
        """The URL requests go to: base_url, or OpenAI's own."""
        return self.base_url or OPENAI_BASE_URL


def display_url(url: str) -> str:
    """`url` fit for logs and messages: user info and query (where tokens hide) removed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def setup_help() -> str:
    """How to configure a model, for error messages and the CLI."""
    return (
        "Set up a model in one of these ways:\n"
        f"  - OpenAI:  export {ENV_MODEL}=gpt-4o-mini  and  export OPENAI_API_KEY=sk-...\n"
        "  - a local OpenAI-compatible server (no key needed):\n"
        f"      Ollama: export {ENV_MODEL}=llama3.1 {ENV_BASE_URL}=http://localhost:11434/v1\n"
        f"      vLLM:   export {ENV_MODEL}=<served model name> "
        f"{ENV_BASE_URL}=http://localhost:8000/v1\n"
        "  - in code: ModelConfig(model=..., base_url=..., api_key_env='NAME_OF_KEY_VARIABLE')"
    )


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve_model(config: ModelConfig | str | None = None) -> ModelConfig:
    """A usable config from a config, a model name, or the environment; fails with a how-to.

    A name takes its server from $MCODEACT_BASE_URL (OpenAI when unset); None takes both from the
    environment. The key is checked here, before any agent starts, not on the first request.
    """
    if config is None:
        model = _env(ENV_MODEL)
        if model is None:
            raise ModelNotConfiguredError(
                f"No model is configured (${ENV_MODEL} is not set).\n{setup_help()}"
            )
        config = model
    if isinstance(config, str):
        config = ModelConfig(model=config, base_url=_env(ENV_BASE_URL))
    read_api_key(config)
    return config


def read_api_key(config: ModelConfig) -> str:
    """The key from the environment; a placeholder for a local server that runs keyless."""
    key = _env(config.api_key_env)
    if key is not None:
        return key
    if config.base_url is not None:
        return KEYLESS_PLACEHOLDER
    raise ModelNotConfiguredError(
        f"Model {config.model!r} on OpenAI needs an API key, but the environment variable "
        f"{config.api_key_env} is not set: export {config.api_key_env}=sk-... , or point "
        f"base_url (${ENV_BASE_URL}) at a local server.\n{setup_help()}"
    )
