"""The exception tree of multiagent-codeact.

    MCAError
    ├── DatasetError                  a benchmark file is missing or malformed (ValueError)
    ├── InputFileError                a task or candidate file is missing or malformed (ValueError)
    ├── ModelError
    │   ├── ModelNotConfiguredError   no model or no API key; says how to set one (RuntimeError)
    │   ├── ModelCallError            a model request failed for good, retries spent (RuntimeError)
    │   └── BudgetExceededError       the run's token or cost budget is spent (RuntimeError)
    ├── ScriptedError                 the scripted model server's script or state is wrong
    │   ├── ScriptFileError           a script file is missing or malformed (ValueError)
    │   ├── NoRuleMatchedError        no rule answers a request (LookupError)
    │   └── ServerStateError          the server was used before start or after close
    ├── RunStoreError                 a run folder or the run index cannot be used
    │   └── RunNotFoundError          no run has that id (LookupError); names the closest
    │       └── AmbiguousRunIdError   an id prefix matches several runs; lists them
    └── SandboxError
        ├── SandboxUnavailableError   the host lacks the isolation asked for (RuntimeError)
        ├── SandboxStartError         the sandbox server did not come up (RuntimeError)
        └── SandboxClosedError        a job was submitted to a closed sandbox (RuntimeError)

Failures of the *code* a sandbox runs (exceptions, timeouts, kills, forbidden imports) are not
raised: they are data in `ExecResult.error`, because they cross a process boundary and the caller
(usually an agent) wants to read them, not catch them.
"""

from __future__ import annotations


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
    """Something went wrong talking to a model, or before we could."""


class ModelNotConfiguredError(ModelError, RuntimeError):
    """No model is configured, or its API key is missing; the message says how to set one up."""


class ModelCallError(ModelError, RuntimeError):
    """A model request failed for good: not retryable, or retries spent. Chained to the cause.

    The attributes let a caller decide (for example, stop on 401 but skip a candidate on 400)
    without parsing the message.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        base_url: str | None = None,
        status: int | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.base_url = base_url
        self.status = status
        self.attempts = attempts


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
