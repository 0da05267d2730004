"""The exception tree of multiagent-codeact.

    MCAError
    ├── DatasetError                  a benchmark file is missing or malformed (ValueError)
    ├── InputFileError                a task or candidate file is missing or malformed (ValueError)
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
