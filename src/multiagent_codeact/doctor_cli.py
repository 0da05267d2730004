"""`mcodeact doctor`: check a model endpoint with a few cheap calls before a run depends on it.

Exit status: 0 when a chat completion works, 2 when the endpoint is broken (the same cause a
run would stop with: nothing listening, a rejected key, no such model, not an OpenAI API), 1
when it answers but something else failed. `mcodeact sandbox doctor` checks the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .solve_cli import ModelOpt
from .terminal import printable

__all__ = ["doctor_command"]


def doctor_command(
    model: ModelOpt = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help="An OpenAI-compatible server (default: $MCODEACT_BASE_URL, else OpenAI).",
        ),
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env", metavar="VAR", help="The key's variable (default: OPENAI_API_KEY)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check a model endpoint: key, model list, one short chat call, one short stream."""
    from .models import ModelConfig, resolve_model
    from .models.config import ENV_BASE_URL, ENV_MODEL
    from .models.doctor import check_endpoint

    fields: dict[str, object] = {}
    if api_key_env is not None:
        fields["api_key_env"] = api_key_env
    if model is not None or base_url is not None or fields:
        name = model or _env(ENV_MODEL)
        if name is None:
            raise typer.BadParameter(
                f"give --model NAME (or set ${ENV_MODEL})", param_hint="--model"
            )
        url = base_url if base_url is not None else _env(ENV_BASE_URL)
        try:
            config = ModelConfig.model_validate({"model": name, "base_url": url, **fields})
        except ValidationError as exc:
            first = exc.errors()[0]
            hint = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "--model"
            message = str(first["msg"]).removeprefix("Value error, ")
            raise typer.BadParameter(message, param_hint=hint) from None
        config = resolve_model(config)
    else:
        config = resolve_model(None)  # ModelNotConfiguredError says how to set one up
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with err.status(f"checking {config.model!r} at {config.endpoint}…"):
        checks = asyncio.run(check_endpoint(config))
    chat = next(c for c in checks if c.name == "chat")
    # What else fails (a model list, usage in streams) is advice once chat works.
    status = 0 if chat.ok else (2 if chat.ends_run else 1)
    if as_json:
        payload = {
            "ok": bool(chat.ok),
            "model": config.model,
            "base_url": config.endpoint,
            "checks": [c.model_dump() for c in checks],
        }
        print(json.dumps(payload, indent=2))
    else:
        table = Table("check", "status", "what it saw", box=None, pad_edge=False)
        for c in checks:
            mark = (
                Text("skipped", "dim")
                if c.ok is None
                else Text("ok", "green")
                if c.ok
                else Text("FAILED", "bold red")
            )
            table.add_row(c.name, mark, Text(printable(c.detail)))  # the server's words
        Console(highlight=False, soft_wrap=True).print(table)
    raise typer.Exit(status)


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None
