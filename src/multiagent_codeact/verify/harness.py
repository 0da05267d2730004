"""The program that runs inside the sandbox to put one candidate through its tests and inputs.

Shipped as source after codec.py's (hence no relative imports at run time) and run as one
sandbox job per candidate. It reads payload.json from the work dir, loads the candidate's code
in a namespace of its own, runs each test and each call under a timer, and writes one line per
outcome straight to fd 1, prefixed with a nonce. Streaming means a candidate that hangs in C
code or crashes the interpreter still leaves every outcome before that point; the candidate's
own prints go to a small capped buffer, so they can neither flood nor split our lines.

Not a defence against a candidate that sets out to forge its own outcomes (it runs in the same
process); the sandbox, not this harness, is what protects the host.
"""

import json
import os
import signal
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time these come from codec.py's source, shipped ahead of this one
    from .codec import decode, dumps_capped, encode, same_value

CANDIDATE_FILE = "<candidate>"
HARNESS_FILE = "<mca-harness>"  # the name runner.py compiles this source under
CAPTURE_CHARS = 4000


class CallTimeout(BaseException):
    """Raised by the timer; a BaseException so that `except Exception` in a candidate misses it."""


class _Sink:
    """Stands in for stdout/stderr while candidate code runs: keeps the first few KB."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.size < CAPTURE_CHARS:
            self.parts.append(text[: CAPTURE_CHARS - self.size])
        self.size += len(text)
        return len(text)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        joined = "".join(self.parts)
        return joined + ("\n[... output truncated]" if self.size > CAPTURE_CHARS else "")


class Harness:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.nonce: str = payload["nonce"]
        self.max_chars: int = payload["max_value_chars"]
        self.deadline = time.monotonic() + float(payload["budget"])
        self.armed = False
        self.sink = _Sink()
        self.pending: list[str] = []
        self.out_fd = 1  # not a dup: the job ends when its stdout closes, so never hold a copy
        signal.signal(signal.SIGALRM, self._on_alarm)

    # -- output -----------------------------------------------------------------------------
    def emit(self, record: dict[str, Any]) -> None:
        # Not batched: a candidate that kills the interpreter (os._exit, abort, a segfault) on
        # its next call would take every outcome still pending with it, and a fast candidate's
        # whole run fits in one batch. A write per outcome cost nothing measurable (8 jobs x 233
        # calls), the server's extra wakeups included.
        self.pending.append(self.nonce + json.dumps(record, separators=(",", ":")) + "\n")
        self.flush()

    def flush(self) -> None:
        data = "".join(self.pending).encode("utf-8", "backslashreplace")
        self.pending.clear()
        while data:
            data = data[os.write(self.out_fd, data) :]

    # -- timing -----------------------------------------------------------------------------
    def _on_alarm(self, signum: int, frame: Any) -> None:
        if self.armed:
            # A bare `except:` inside a loop catches the timer's exception wherever it lands in
            # the `try`. Also raise at the next line the candidate runs: that line is in its
            # handler, outside the `try` that caught the first one.
            sys.settrace(self._trace)
            while frame is not None:
                if frame.f_code.co_filename != HARNESS_FILE:
                    frame.f_trace = self._trace
                frame = frame.f_back
            raise CallTimeout

    def _trace(self, frame: Any, event: str, arg: Any) -> Any:
        # Not on the "exception" event: that one fires where the first exception was raised,
        # still inside the `try`. Raising turns tracing off until the timer fires again.
        if self.armed and event in ("line", "call"):
            raise CallTimeout
        return self._trace

    def guarded(self, fn: Any, timeout: float) -> tuple[str, Any]:
        """("value", v), ("raised", exc), ("timeout", None) or ("skipped", None)."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return "skipped", None
        stdout, stderr = sys.stdout, sys.stderr
        try:
            sys.stdout = sys.stderr = self.sink
            self.armed = True
            # The repeating interval re-raises if a candidate's bare `except:` swallowed one.
            signal.setitimer(signal.ITIMER_REAL, max(min(timeout, remaining), 0.001), 0.05)
            try:
                return "value", fn()
            finally:
                self.armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                sys.settrace(None)
                sys.stdout, sys.stderr = stdout, stderr
        except CallTimeout:
            return "timeout", None
        except BaseException as exc:
            return "raised", exc

    # -- the stages -------------------------------------------------------------------------
    def load(self) -> dict[str, Any] | None:
        code: str = self.payload["code"]
        entry: str | None = self.payload["entry"]
        namespace: dict[str, Any] = {"__name__": "__candidate__", "__builtins__": __builtins__}

        def run() -> None:
            exec(compile(code, CANDIDATE_FILE, "exec"), namespace)

        kind, value = self.guarded(run, float(self.payload["load_timeout"]))
        record: dict[str, Any] = {"k": "load", "output": self.sink.text()}
        if kind != "value":
            record["error"] = _describe(kind, value)
        elif entry is not None and not callable(namespace.get(entry)):
            defined = sorted(k for k, v in namespace.items() if callable(v) and k[0] != "_")
            record["error"] = {
                "type": "MissingEntryPoint",
                "message": f"the code does not define a function {entry!r}"
                + (f"; it defines: {', '.join(defined[:10])}" if defined else ""),
            }
        elif entry is None:
            record["result"] = (
                json.loads(dumps_capped(namespace["result"], self.max_chars))
                if "result" in namespace
                else None
            )
            record["has_result"] = "result" in namespace
        self.emit(record)
        self.flush()  # a hang in the first test must not lose the fact that the code loaded
        return None if "error" in record else namespace

    def run_tests(self, namespace: dict[str, Any]) -> None:
        timeout = float(self.payload["call_timeout"])
        for group in self.payload["groups"]:
            scope = dict(namespace)
            kind, value = self.guarded(
                lambda group=group, scope=scope: exec(
                    compile(group["setup"], "<tests>", "exec"), scope
                ),
                timeout,
            )
            setup_error = None if kind == "value" else _describe(kind, value)
            for test in group["tests"]:
                if setup_error is not None:
                    self.emit({"k": "test", "id": test["id"], "o": "error", "error": setup_error})
                    continue
                self.emit({"k": "test", "id": test["id"], **self.run_test(test, scope, timeout)})

    def run_test(self, test: dict[str, Any], scope: dict[str, Any], timeout: float) -> Any:
        local = dict(scope)
        if test.get("actual") is not None:  # `assert ACTUAL == EXPECTED`: keep both values
            kind, value = self.guarded(
                lambda: (eval(test["actual"], local), eval(test["expected"], local)), timeout
            )
            if kind != "value":
                return {"o": _test_outcome(kind, value), "error": _describe(kind, value)}
            actual, expected = value
            if _equal(actual, expected):
                return {"o": "pass"}
            return {"o": "fail", "actual": _short(actual), "expected": _short(expected)}
        kind, value = self.guarded(
            lambda: exec(compile(test["src"], "<test>", "exec"), local), timeout
        )
        if kind == "value":
            return {"o": "pass"}
        return {"o": _test_outcome(kind, value), "error": _describe(kind, value)}

    def run_calls(self, namespace: dict[str, Any]) -> None:
        fn = namespace[self.payload["entry"]]
        timeout = float(self.payload["call_timeout"])
        give_up_after = int(self.payload["max_timeouts"])
        timeouts = 0
        for index, encoded_args in enumerate(self.payload["inputs"]):
            if timeouts >= give_up_after:
                self.emit({"k": "call", "i": index, "o": "skipped", "e": "gave up: it hangs"})
                continue
            args = decode(encoded_args)
            kind, value = self.guarded(lambda args=args: fn(*args), timeout)
            record: dict[str, Any] = {"k": "call", "i": index, "o": kind}
            if kind == "value":
                try:
                    record["v"] = json.loads(dumps_capped(value, self.max_chars))
                except BaseException as exc:
                    record.update(o="raised", e=f"unencodable result: {type(exc).__name__}")
            elif kind == "raised":
                record["e"] = f"{type(value).__name__}: {_message(value)}"
            timeouts = timeouts + 1 if kind == "timeout" else 0
            self.emit(record)

    def main(self) -> None:
        namespace = self.load()
        if namespace is not None:
            self.run_tests(namespace)
            if self.payload["entry"] is not None:
                self.run_calls(namespace)
        self.emit({"k": "done"})
        self.flush()


def _equal(actual: Any, expected: Any) -> bool:
    try:
        if bool(actual == expected):
            return True
    except Exception:
        pass
    # Tests written by people and models compare floats with ==; accept float noise.
    return same_value(json_round_trip(actual), json_round_trip(expected), rtol=1e-9, atol=1e-12)


def json_round_trip(value: Any) -> Any:
    return decode(encode(value))


def _test_outcome(kind: str, value: Any) -> str:
    if kind in ("timeout", "skipped"):
        return kind
    return "fail" if isinstance(value, AssertionError) else "error"


def _describe(kind: str, value: Any) -> dict[str, Any]:
    if kind == "timeout":
        return {"type": "Timeout", "message": "took longer than its time limit"}
    if kind == "skipped":
        return {"type": "Skipped", "message": "the candidate's time budget ran out"}
    frames = [
        f
        for f in traceback.extract_tb(value.__traceback__)
        if f.filename in (CANDIDATE_FILE, "<test>", "<tests>")
    ]
    line = frames[-1].lineno if frames else getattr(value, "lineno", None)
    return {
        "type": type(value).__name__,
        "message": _message(value),
        "line": line,
        "where": frames[-1].filename.strip("<>") if frames else None,
    }


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:500]
    except Exception:
        return "<message unavailable>"


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= 300 else text[:297] + "..."


def harness_main() -> None:
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # huge integer results must encode, not raise
    with open("payload.json", encoding="utf-8") as f:
        payload = json.load(f)
    for name in ("payload.json", "harness.bin"):
        os.unlink(name)  # input, not artifacts worth returning
    Harness(payload).main()
