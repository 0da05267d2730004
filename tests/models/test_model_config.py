"""ModelConfig validation, defaults, secrets, and resolve_model's use of the environment."""

from __future__ import annotations

from typing import Any

import pytest
from autogen_core.models import ModelFamily
from pydantic import ValidationError

from multiagent_codeact import models
from multiagent_codeact.errors import MCAError, ModelNotConfiguredError
from multiagent_codeact.models import Capabilities, ModelConfig, Price, resolve_model
from multiagent_codeact.models.config import (
    KEYLESS_PLACEHOLDER,
    OPENAI_BASE_URL,
    display_url,
    read_api_key,
)

SECRET = "sk-test-DO-NOT-LEAK-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MCODEACT_MODEL", "MCODEACT_BASE_URL", "OPENAI_API_KEY", "MY_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_public_names_are_pinned() -> None:
    assert sorted(models.__all__) == sorted(
        [
            "BUILTIN_PRICES",
            "SAMPLE_ARG",
            "Backoff",
            "Budget",
            "BudgetExceededError",
            "CallRecord",
            "Capabilities",
            "Limiter",
            "MeteredChatClient",
            "ModelCallError",
            "ModelConfig",
            "ModelNotConfiguredError",
            "OnCall",
            "Price",
            "ResponseCache",
            "Usage",
            "UsageTotals",
            "cache_key",
            "lookup_price",
            "make_client",
            "resolve_model",
            "setup_help",
        ]
    )


def test_defaults() -> None:
    config = ModelConfig(model="gpt-4o-mini")
    assert config.base_url is None
    assert config.endpoint == OPENAI_BASE_URL
    assert config.api_key_env == "OPENAI_API_KEY"
    assert (config.max_retries, config.max_concurrency, config.cache_dir) == (4, 8, None)
    assert config.price == Price(input_per_mtok=0.15, output_per_mtok=0.60)
    assert config.capabilities.family == ModelFamily.GPT_4O
    assert config.capabilities.function_calling and config.capabilities.structured_output


def test_local_server_defaults_are_modest() -> None:
    config = ModelConfig(model="llama3.1", base_url="http://localhost:11434/v1/")
    assert config.base_url == "http://localhost:11434/v1"
    assert config.price is None
    caps = config.capabilities
    assert not caps.vision and not caps.function_calling and not caps.structured_output
    assert caps.family == ModelFamily.UNKNOWN
    r1 = ModelConfig(model="deepseek-r1:7b", base_url="http://localhost:11434/v1")
    assert r1.capabilities.family == ModelFamily.R1


def test_partial_capabilities_override_the_defaults_field_by_field() -> None:
    config = ModelConfig(
        model="qwen2.5-coder", base_url="http://localhost:8000/v1", capabilities={"vision": True}
    )
    assert config.capabilities.vision is True
    assert config.capabilities.json_output is True  # the local default, kept
    info = config.capabilities.model_info()
    assert info == {
        "vision": True,
        "function_calling": False,
        "json_output": True,
        "structured_output": False,
        "family": "unknown",
    }


def test_explicit_price_wins_over_the_table() -> None:
    price = Price(input_per_mtok=1, output_per_mtok=2)
    assert ModelConfig(model="gpt-4o", price=price).price == price


def test_round_trips_through_json() -> None:
    config = ModelConfig(
        model="m", base_url="http://h:1/v1", temperature=0.7, capabilities=Capabilities()
    )
    assert ModelConfig.model_validate_json(config.model_dump_json()) == config


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("model", "", "model"),
        ("base_url", "localhost:11434", "http://"),
        ("api_key_env", "sk-abc", "NAME"),
        ("api_key_env", "1BAD", "NAME"),
        ("temperature", 3.0, "temperature"),
        ("temperature", -0.1, "temperature"),
        ("max_tokens", 0, "max_tokens"),
        ("timeout_s", 0, "timeout_s"),
        ("max_retries", -1, "max_retries"),
        ("max_concurrency", 0, "max_concurrency"),
        ("api_key", SECRET, "api_key"),
        ("price", {"input_per_mtok": -1, "output_per_mtok": 0}, "price"),
    ],
)
def test_invalid_fields_are_rejected(field: str, value: Any, needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        ModelConfig(**{"model": "m", field: value})
    assert needle in str(info.value)


def test_a_key_pasted_into_the_config_is_not_echoed_by_the_error() -> None:
    for field in ("api_key", "api_key_env"):
        with pytest.raises(ValidationError) as info:
            ModelConfig(**{"model": "m", field: SECRET})
        assert SECRET not in str(info.value)


def test_the_key_never_reaches_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", SECRET)
    config = resolve_model(ModelConfig(model="gpt-4o", api_key_env="MY_KEY"))
    assert read_api_key(config) == SECRET
    for text in (repr(config), str(config), config.model_dump_json(), str(config.model_dump())):
        assert SECRET not in text


def test_nothing_configured_says_how_to_set_a_model_up() -> None:
    with pytest.raises(ModelNotConfiguredError) as info:
        resolve_model()
    message = str(info.value)
    assert isinstance(info.value, MCAError)
    for needle in (
        "MCODEACT_MODEL",
        "MCODEACT_BASE_URL",
        "OPENAI_API_KEY",
        "http://localhost:11434/v1",
        "http://localhost:8000/v1",
        "Ollama",
        "vLLM",
    ):
        assert needle in message


def test_openai_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCODEACT_MODEL", "gpt-4o")
    with pytest.raises(ModelNotConfiguredError, match="OPENAI_API_KEY is not set"):
        resolve_model()
    with pytest.raises(ModelNotConfiguredError, match="MY_KEY is not set"):
        resolve_model(ModelConfig(model="gpt-4o", api_key_env="MY_KEY"))
    monkeypatch.setenv("OPENAI_API_KEY", "   ")  # blank counts as unset
    with pytest.raises(ModelNotConfiguredError):
        resolve_model("gpt-4o")


def test_model_and_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCODEACT_MODEL", "llama3.1")
    monkeypatch.setenv("MCODEACT_BASE_URL", "http://localhost:11434/v1")
    config = resolve_model()
    assert (config.model, config.base_url) == ("llama3.1", "http://localhost:11434/v1")
    # A local server runs keyless: the openai client still wants a string, so a placeholder.
    assert read_api_key(config) == KEYLESS_PLACEHOLDER


def test_a_name_takes_its_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert resolve_model("gpt-4o").base_url is None
    monkeypatch.setenv("MCODEACT_BASE_URL", "http://localhost:8000/v1")
    assert resolve_model("my-model").base_url == "http://localhost:8000/v1"


def test_an_explicit_config_is_taken_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCODEACT_MODEL", "other")
    monkeypatch.setenv("MCODEACT_BASE_URL", "http://elsewhere:1/v1")
    config = ModelConfig(model="mine", base_url="http://localhost:8000/v1")
    assert resolve_model(config) is config


def test_display_url_drops_credentials() -> None:
    assert display_url("https://user:pw@host:8443/v1?key=abc#x") == "https://host:8443/v1"
    assert display_url("http://[::1]:8000/v1") == "http://[::1]:8000/v1"
