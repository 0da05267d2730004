"""The exception tree of multiagent-codeact.

    MCAError
    ├── DatasetError                  a benchmark file is missing or malformed (ValueError)
    ├── InputFileError                a task or candidate file is missing or malformed (ValueError)
    ├── ModelError                    carries `run_id` when it ended a recorded run
    │   ├── ModelNotConfiguredError   no model or no API key; says how to set one (RuntimeError)
    │   ├── ModelCallError            a model request failed for good: not retryable (that call
    │   │   │                         is lost), or a transient fault outlasted the retries (the
    │   │   │                         run ends: `ends_run`) (RuntimeError)
    │   │   └── ModelEndpointError    the server cannot serve the run at all; it ends at the
    │   │       │                     first call that shows it, the message says what to fix
    │   │       ├── ModelConnectionError  nothing answers at base_url: refused, DNS, TLS
    │   │       ├── ModelAuthError        401/403: the key is missing, wrong or lacks access
    │   │       ├── ModelNotFoundError    404: no such model (lists the server's) or no such
    │   │       │                         path (LookupError)
    │   │       └── ModelProtocolError    the reply is not Chat Completions (HTML, other JSON)
    │   └── BudgetExceededError       the run's token or cost budget is spent (RuntimeError)
    ├── ScriptedError                 the scripted model server's script or state is wrong
    │   ├── ScriptFileError           a script file is missing or malformed (ValueError)
    │   ├── NoRuleMatchedError        no rule answers a request (LookupError)
    │   └── ServerStateError          the server was used before start or after close
    ├── RunStoreError                 a run folder or the run index cannot be used
    │   └── RunNotFoundError          no run has that id (LookupError); names the closest
    │       └── AmbiguousRunIdError   an id prefix matches several runs; lists them
    ├── ViewerError                   `runs serve` cannot listen where asked (OSError)
    ├── MissingExtraError             an optional integration is not installed; names the
    │                                 `pip install 'multiagent-codeact[EXTRA]'` (ImportError)
    ├── TelemetryExportError          an OTLP endpoint or file did not take a run's spans
    ├── BatchEngineError              a batch's engine cannot run it: a Ray cluster too small
    │                                 for the workers asked, a worker that died (RuntimeError)
    └── SandboxError
        ├── SandboxUnavailableError   the host lacks the isolation asked for (RuntimeError)
        ├── SandboxStartError         the sandbox server did not come up (RuntimeError)
        └── SandboxClosedError        a job was submitted to a closed sandbox (RuntimeError)

Failures of the *code* a sandbox runs (exceptions, timeouts, kills, forbidden imports) are not
raised: they are data in `ExecResult.error`, because they cross a process boundary and the caller
(usually an agent) wants to read them, not catch them.
"""

from __future__ import annotations

from typing import Any


class MCAError(Exception):
    """Root of every error this library raises on purpose."""


class SandboxError(MCAError):
    """Something is wrong with the sandbox itself, not with the code it was asked to run."""


class SandboxUnavailableError(SandboxError, RuntimeError):
    """The requested isolation cannot be provided on this host; the message says how to fix it."""


class SandboxStartError(SandboxError, RuntimeError):
    """The sandbox server failed to start; the message carries what it printed."""


class SandboxClosedError(SandboxError, RuntimeError):
    """The sandbox was used after `close()` or outside its `with` block."""


class DatasetError(MCAError, ValueError):
    """A benchmark dataset is missing or malformed; the message names the file and the line."""


class InputFileError(MCAError, ValueError):
    """A task or candidate file the user gave is missing or malformed; the message says which
    file, where in it, and what was expected."""


class ModelError(MCAError):
    """Something went wrong talking to a model, or before we could.

    `ends_run` says whether the run cannot go on (a broken endpoint, retries spent) rather than
    just losing one call; `run_id` names the recorded run it ended, when it ended one.
    """

    ends_run: bool = False
    run_id: str | None = None


class ModelNotConfiguredError(ModelError, RuntimeError):
    """No model is configured, or its API key is missing; the message says how to set one up."""


class ModelCallError(ModelError, RuntimeError):
    """A model request failed for good: not retryable, or retries spent. Chained to the cause.

    The attributes let a caller decide without parsing the message: `ends_run` is true when a
    transient fault (429, 5xx, timeouts) outlasted the retries, false when only this request
    was refused (a 400 for a prompt too long, say); `agent` is who asked.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        base_url: str | None = None,
        status: int | None = None,
        attempts: int = 0,
        agent: str | None = None,
        ends_run: bool = False,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.base_url = base_url
        self.status = status
        self.attempts = attempts
        self.agent = agent
        self.ends_run = ends_run or type(self).ends_run


class ModelEndpointError(ModelCallError):
    """The model's server cannot serve this run: unreachable, refusing the key, without the
    model, or not an OpenAI-compatible API. Retrying cannot help, so the run ends at the first
    call that shows it; the message names the cause and the setting that fixes it."""

    ends_run = True


class ModelConnectionError(ModelEndpointError):
    """Nothing answers at the server's URL: connection refused, a host name that does not
    resolve, or a TLS handshake that fails (https:// to a plain-HTTP server)."""


class ModelAuthError(ModelEndpointError):
    """The server refused the API key (401), or the key has no access to the model (403)."""


class ModelNotFoundError(ModelEndpointError, LookupError):
    """The server has no such model, or no Chat Completions at that path (404).

    `available` lists the models the server names at GET /models, when it answers.
    """

    def __init__(self, message: str, *, available: list[str] | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.available = list(available) if available is not None else None


class ModelProtocolError(ModelEndpointError):
    """The server answered, but not as an OpenAI Chat Completions API (an HTML page, some other
    JSON): usually a base_url that points at the wrong service or path."""


class BudgetExceededError(ModelError, RuntimeError):
    """The run's token or cost budget is spent; raised before a request so a run stops cleanly."""

    def __init__(
        self, message: str, *, spent: float = 0.0, limit: float = 0.0, unit: str = ""
    ) -> None:
        super().__init__(message)
        self.spent = spent
        self.limit = limit
        self.unit = unit


class RunStoreError(MCAError):
    """A run folder or the run index cannot be written or read; the message names the path."""


class RunNotFoundError(RunStoreError, LookupError):
    """No run has the id (or id prefix) given; the message lists the closest ids there are."""


class AmbiguousRunIdError(RunNotFoundError):
    """An id prefix matches several runs; the message lists them so the user can pick one."""


class ViewerError(MCAError, OSError):
    """The run viewer cannot listen on the host and port asked for (in use, not this host)."""


class MissingExtraError(MCAError, ImportError):
    """An optional integration's packages are not installed; `extra` names the pip extra."""

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class BatchEngineError(MCAError, RuntimeError):
    """A batch's engine cannot go on: a Ray cluster without room for the workers asked, or a
    worker process that died; the message says what to change. Rows written so far stay."""


class TelemetryExportError(MCAError, OSError):
    """A run's spans were not taken: the OTLP endpoint is unreachable or refused them, or the
    file cannot be written; the message names the endpoint and why."""
