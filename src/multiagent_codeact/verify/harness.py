"""The program that runs inside the sandbox to put one candidate through its tests and inputs.

Shipped as source after codec.py's (hence no relative imports at run time) and run as one
sandbox job per candidate. Three kinds of process take part, so that no outcome is written
where the candidate's code can reach it:

- the judge (the job itself) reads the payload, starts the others, relays calls, and alone
  writes outcome records to the job's stdout, prefixed with a nonce. It never runs code that a
  model wrote.
- the candidate process loads the candidate's code and answers calls of its functions with
  data: tagged JSON values (codec.py), never live objects. Whatever it does to itself, the most
  it can do is answer wrongly, crash or hang, and each of those is recorded as such.
- a test process per test group runs that group's setup and cases. The candidate's functions
  are stand-ins there that ask the judge, which asks the candidate process, so a test compares
  plain data the candidate handed over: an object whose `__eq__` always answers True arrives as
  an opaque description and equals nothing but its own kind.

The children get /dev/null for stdin, stdout and stderr and hold no descriptor but their own
pipe pair, and the job is not dumpable (the jail sets that), so they cannot reach the job's
stdout, its report pipe or the judge's memory. The judge enforces every time limit from the
outside, by killing the process that overran and starting a fresh one for what is left.

A test that cannot run on data (it passes a function to the candidate, or uses a method of an
object the candidate returned) runs inside the candidate process as before, and its outcome
is marked `in_process`: evidence the candidate could have forged, reported as such.

`InProcessHarness` is the older single-process toolkit (per-call timers, capped capture), kept
for the optimizer's timing harness, which measures speed, not correctness.
"""

import base64
import hashlib
import json
import os
import signal
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time these come from codec.py's source, shipped ahead of this one
    from .codec import Opaque, Stream, cap_encoded, decode, dumps_capped, encode, same_value

CANDIDATE_FILE = "<candidate>"
HARNESS_FILE = "<mca-harness>"  # the name runner.py compiles this source under
CAPTURE_CHARS = 4000
MAX_MESSAGE = 64 * 1024 * 1024  # what a child may send in one message
TEST_VALUE_CHARS = 1_000_000  # values a test compares travel whole up to this size
MAX_RESTARTS = 8  # candidate processes started after crashes or hangs, at most
CALL_LOG = 3  # calls a failing test reports, with what they returned
BACKSTOP_S = 0.5  # the judge's margin over the candidate process's own per-call timer
CRASHED = "Crashed: the candidate's process died during the call"  # a call's "exception"
ADAPTIVE_FACTOR, ADAPTIVE_FLOOR_S = 30.0, 0.15  # see CandidateServer.calls
# Files a computation task's code writes are outputs, compared like `result`: each travels whole
# up to WRITTEN_FILE_BYTES (WRITTEN_TOTAL_BYTES in all), a larger one as its digest.
WRITTEN_FILE_BYTES, WRITTEN_TOTAL_BYTES, WRITTEN_FILES = 1_000_000, 4_000_000, 100
_BUILTINS = sys.modules["builtins"]


class CallTimeout(BaseException):
    """Raised by a timer; a BaseException so that `except Exception` in a candidate misses it."""


class ChannelClosed(Exception):
    """The process at the other end of a pipe died, closed it, or sent garbage."""


class Deadline(BaseException):
    """The judge's alarm: a child did not answer in time."""


class LiveObjectNeeded(Exception):
    """A test needs a live object of the candidate's (a function, a method); data will not do."""


# -- framing: length-prefixed JSON over pipes --------------------------------------------------


def send_msg(fd: int, obj: Any) -> None:
    data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("ascii")
    data = len(data).to_bytes(4, "big") + data
    while data:
        data = data[os.write(fd, data) :]


def recv_msg(fd: int) -> Any:
    size = int.from_bytes(_read_exact(fd, 4), "big")
    if size > MAX_MESSAGE:
        raise ChannelClosed(f"a message of {size} bytes")
    try:
        return json.loads(_read_exact(fd, size))
    except ValueError as exc:
        raise ChannelClosed(f"not JSON: {exc}") from None


def _read_exact(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise ChannelClosed("end of file")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


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


# -- children ----------------------------------------------------------------------------------


class Child:
    """A forked helper process and its two pipe ends."""

    def __init__(self, pid: int, rfd: int, wfd: int) -> None:
        self.pid, self.rfd, self.wfd = pid, rfd, wfd
        self.alive = True

    def kill(self) -> None:
        """Kill it and what it forked. Not waited for: tearing down a forked interpreter costs
        milliseconds, better spent on the other core; `reap` collects it once it is gone."""
        if not self.alive:
            return
        self.alive = False
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass
        for target in (-self.pid, self.pid):  # its process group: what it forked goes too
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        _unreaped.append(self.pid)
        reap()


_unreaped: list[int] = []


def reap(block: bool = False) -> None:
    """Collect killed children. A zombie still counts against the job's process limit (which
    the jail's other jobs share), so they are collected as soon as they are dead."""
    for pid in list(_unreaped):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        except OSError:
            continue
        if done:
            _unreaped.remove(pid)


def spawn(serve: Any) -> Child:
    """Fork a child that runs `serve(rfd, wfd)` with nothing of the job's but its own pipes."""
    reap()
    down_r, down_w = os.pipe()
    up_r, up_w = os.pipe()
    try:
        pid = os.fork()
    except BlockingIOError:  # at the process limit: wait for the dead, then try once more
        reap(block=True)
        try:
            pid = os.fork()
        except OSError:
            for fd in (down_r, down_w, up_r, up_w):
                os.close(fd)
            raise
    if pid == 0:
        status = 0
        try:
            os.setpgid(0, 0)
            null = os.open(os.devnull, os.O_RDWR)
            for target in (0, 1, 2):
                os.dup2(null, target)
            keep = sorted({down_r, up_w})
            # Everything else goes: the job's report pipe, the other children's pipes.
            os.closerange(3, keep[0])
            os.closerange(keep[0] + 1, keep[1])
            os.closerange(keep[1] + 1, 1 << 16)
            serve(down_r, up_w)
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    os.close(down_r)
    os.close(up_w)
    return Child(pid, up_r, down_w)


# -- the candidate's process -------------------------------------------------------------------


class CandidateServer:
    """Loads the candidate's code and answers calls of its functions with data.

    Its own timers end a slow call (so the process, and the loaded code, live on); the judge's
    timer behind them catches a candidate that turns them off.
    """

    def __init__(self, rfd: int, wfd: int, call_timeout: float) -> None:
        self.rfd, self.wfd = rfd, wfd
        self.namespace: dict[str, Any] = {}
        self.limit = self.timeout = call_timeout
        self.guard = Guard(1e9)  # the judge keeps the job's budget

    def serve(self) -> None:
        while True:
            try:
                msg = recv_msg(self.rfd)
            except ChannelClosed:
                return
            op = msg.get("op")
            if op == "load":
                send_msg(self.wfd, self.load(msg))
            elif op == "call":
                fn = self.namespace.get(msg["fn"])
                args, kwargs = decode(msg["args"])
                send_msg(self.wfd, self.call(fn, args, kwargs, int(msg["cap"])))
            elif op == "calls":
                self.calls(msg)
            elif op == "case":
                send_msg(self.wfd, self.case_in_process(msg))
            else:
                return

    def calls(self, msg: dict[str, Any]) -> None:
        # Outcomes travel in batches: a message per call would cost more than most calls.
        fn = self.namespace.get(msg["fn"])
        cap = int(msg["cap"])
        most = int(msg["batch"])
        adaptive = bool(msg.get("adaptive"))
        slowest = 0.0
        batch: list[dict[str, Any]] = []
        sent = time.monotonic()
        for index, encoded in enumerate(msg["inputs"], start=int(msg["start"])):
            if adaptive:
                # Inputs come smallest first: a call far slower than every call before it is
                # taken as a hang, sooner than the full limit. Timeouts decide no cluster.
                self.timeout = min(self.limit, max(ADAPTIVE_FLOOR_S, ADAPTIVE_FACTOR * slowest))
            started = time.monotonic()
            out = self.call(fn, list(decode(encoded)), {}, cap, encoded)
            slowest = max(slowest, time.monotonic() - started)
            out["i"] = index
            batch.append(out)
            if out["o"] == "timeout" and msg.get("stop", True):
                break  # the judge skips the rest
            if len(batch) >= most or time.monotonic() - sent > 0.005:
                self.send_batch(batch, adaptive, slowest)
                batch, sent = [], time.monotonic()
        if batch:
            self.send_batch(batch, adaptive, slowest)

    def send_batch(self, batch: list[dict[str, Any]], adaptive: bool, slowest: float) -> None:
        # With the limit the next call will get, so the judge's own timer can follow it.
        limit = min(self.limit, max(ADAPTIVE_FLOOR_S, ADAPTIVE_FACTOR * slowest))
        send_msg(self.wfd, {"b": batch, "t": limit if adaptive else self.limit})

    def load(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.namespace = {"__name__": "__candidate__", "__builtins__": _BUILTINS}
        kind, value = self.guard.guarded(
            lambda: exec(compile(msg["code"], CANDIDATE_FILE, "exec"), self.namespace), 1e9
        )
        out: dict[str, Any] = {"output": self.guard.sink.text()}
        if kind != "value":
            out["error"] = _describe(kind, value)
            return out
        out["exports"] = self.exports(int(msg["cap"]))
        return out

    def exports(self, cap: int) -> dict[str, Any]:
        """What tests may name: functions and classes (as stand-ins), data (as values) and
        modules (imported again by name)."""
        callables, classes, data, modules = [], [], {}, {}
        for name, value in list(self.namespace.items()):
            if name.startswith("__"):
                continue
            kind = type(value).__name__
            if kind == "module":
                modules[name] = str(getattr(value, "__name__", name))
            elif isinstance(value, type):
                classes.append(name)
            elif callable(value):
                callables.append(name)
            else:
                try:
                    data[name] = dumps_capped(value, cap)
                except BaseException:
                    continue
        return {"callables": callables, "classes": classes, "data": data, "modules": modules}

    def call(
        self, fn: Any, args: list[Any], kwargs: dict[str, Any], cap: int, sent: Any = None
    ) -> dict[str, Any]:
        """`sent` is the arguments' encoded form as they arrived: when given, arguments the call
        changed are reported too (a function that mutates its input behaves differently)."""
        if not callable(fn):
            return {"o": "raised", "e": "MissingEntryPoint: no such function"}
        # Encoding consumes a returned generator: it runs under the same timer as the call.
        kind, value = self.guard.guarded(lambda: _encoded(fn(*args, **kwargs), cap), self.timeout)
        if kind == "timeout":
            return {"o": "timeout"}
        if kind != "value":
            return {"o": "raised", "e": f"{type(value).__name__}: {_message(value)}"}
        text, error = value
        if error is not None:
            return {"o": "raised", "e": f"unencodable result: {error}"}
        try:
            out: dict[str, Any] = {"o": "value", "v": text}
            if sent is not None:
                after = encode(args)
                if after != sent:
                    out["a"] = cap_encoded(json.dumps(after, separators=(",", ":")), cap)
        except BaseException as exc:
            return {"o": "raised", "e": f"unencodable result: {type(exc).__name__}"}
        return out

    def case_in_process(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The old way, for a test that needs live objects: run it beside the candidate."""
        scope = dict(self.namespace)

        def run() -> dict[str, Any]:
            try:
                exec(compile(msg["setup"], "<tests>", "exec"), scope)
            except BaseException as exc:
                return {"o": "error", "error": _describe("raised", exc)}
            return evaluate_case(msg["case"], scope)

        kind, value = self.guard.guarded(run, self.timeout)
        if kind == "value":
            out: dict[str, Any] = value
            return out
        return {"o": "error", "error": _describe(kind, value)}


def _encoded(value: Any, cap: int) -> tuple[str, str | None]:
    try:
        return dumps_capped(value, cap), None
    except (CallTimeout, Deadline):
        raise
    except Exception as exc:
        return "", type(exc).__name__


# -- a test group's process --------------------------------------------------------------------


class TestRunner:
    """Runs the cases of some test groups, each group's setup in a scope of its own; the
    candidate's functions are stand-ins that return data."""

    def __init__(
        self, rfd: int, wfd: int, groups: list[dict[str, Any]], exports: dict[str, Any]
    ) -> None:
        self.rfd, self.wfd = rfd, wfd
        self.groups = groups
        self.exports = exports
        self.calls: list[str] = []
        self.scopes: dict[int, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}

    def base_scope(self) -> dict[str, Any]:
        scope: dict[str, Any] = {"__name__": "__tests__", "__builtins__": _BUILTINS}
        for name, module in self.exports.get("modules", {}).items():
            try:
                scope[name] = __import__(module, fromlist=["_"])
            except BaseException:
                pass
        for name, text in self.exports.get("data", {}).items():
            scope[name] = decode(json.loads(text))
        for name in self.exports.get("callables", []) + self.exports.get("classes", []):
            scope[name] = self.stand_in(name)
        return scope

    def scope_of(self, g: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The group's scope after its setup, or the outcome its cases get when setup failed."""
        if g not in self.scopes:
            scope = self.base_scope()
            try:
                exec(compile(self.groups[g]["setup"], "<tests>", "exec"), scope)
                self.scopes[g] = (scope, None)
            except LiveObjectNeeded:
                self.scopes[g] = (None, {"o": "in_process"})
            except BaseException as exc:
                self.scopes[g] = (None, {"o": "error", "error": _describe("raised", exc)})
        ready, failed = self.scopes[g]
        return ready, (dict(failed) if failed is not None else None)

    def serve(self) -> None:
        sys.stdout = sys.stderr = _Sink()
        while True:
            try:
                msg = recv_msg(self.rfd)
            except ChannelClosed:
                return
            if msg.get("op") != "case":
                return
            self.calls = []
            g, i = int(msg["g"]), int(msg["i"])
            out: dict[str, Any]
            try:
                scope, failed = self.scope_of(g)
                if failed is not None or scope is None:
                    out = failed or {"o": "error"}
                else:
                    out = evaluate_case(self.groups[g]["tests"][i], dict(scope))
            except LiveObjectNeeded:
                out = {"o": "in_process"}
            except CallTimeout:  # the judge knows, and records the timeout itself
                out = {"o": "error", "error": _describe("timeout", None)}
            if out.get("o") != "pass" and self.calls:
                out["calls"] = self.calls[:CALL_LOG]
            send_msg(self.wfd, {"op": "done", **out})

    def stand_in(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            encoded = encode([list(args), kwargs])
            if _has_opaque(encoded):
                raise LiveObjectNeeded(f"{name}() was given a value that is not data")
            send_msg(self.wfd, {"op": "call", "fn": name, "args": encoded})
            reply = recv_msg(self.rfd)
            kind = reply.get("o")
            text = f"{name}({_show_args(args, kwargs)})"
            if kind == "value":
                value = decode(reply["v"])
                self.calls.append(f"{text} returned {_short(value)}")
                if isinstance(value, Opaque) and value.type in ("function", "method", "builtin"):
                    raise LiveObjectNeeded(f"{name}() returned a function")
                # A generator's items, to be iterated as the test would iterate the original.
                return iter(value.items) if isinstance(value, Stream) else value
            if kind == "timeout":
                self.calls.append(f"{text} took longer than its time limit")
                raise CallTimeout
            error = str(reply.get("e", "Exception: the candidate failed"))
            self.calls.append(f"{text} raised {error}")
            raise _exception_like(error)

        call.__name__ = name
        return call


def evaluate_case(test: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Run one case in `scope`: {"o": "pass"}, or "fail"/"error" with what went wrong."""
    try:
        if test.get("actual") is not None:  # `assert ACTUAL == EXPECTED`: keep both values
            actual = eval(test["actual"], scope)
            expected = eval(test["expected"], scope)
            if _equal(actual, expected):
                return {"o": "pass"}
            return {"o": "fail", "actual": _short(actual), "expected": _short(expected)}
        exec(compile(test["src"], "<test>", "exec"), scope)
        return {"o": "pass"}
    except (LiveObjectNeeded, CallTimeout):
        raise
    except AttributeError as exc:
        if "Opaque" in str(exc) or "Stream" in str(exc):
            raise LiveObjectNeeded(str(exc)) from None
        return {"o": "error", "error": _describe("raised", exc)}
    except BaseException as exc:
        kind = "fail" if isinstance(exc, AssertionError) else "error"
        return {"o": kind, "error": _describe("raised", exc)}


def _has_opaque(encoded: Any) -> bool:
    if isinstance(encoded, list):
        return any(_has_opaque(v) for v in encoded)
    if isinstance(encoded, dict):
        ((tag, body),) = encoded.items()
        return tag == "$o" or _has_opaque(body)
    return False


def _exception_like(error: str) -> BaseException:
    """An exception of the type the candidate raised, so `pytest.raises`-style tests work."""
    name, _, message = error.partition(": ")
    builtin = getattr(_BUILTINS, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        try:
            made: BaseException = builtin(message)
            return made
        except BaseException:
            pass
    kind: type[Exception] = type(
        name if name.isidentifier() else "CandidateError", (Exception,), {}
    )
    return kind(message)


def _show_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [_short(a, 60) for a in args] + [f"{k}={_short(v, 60)}" for k, v in kwargs.items()]
    return ", ".join(parts)


# -- the judge ---------------------------------------------------------------------------------


class Judge:
    """The job itself: starts the children, relays calls, and alone writes outcomes."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.nonce: str = payload["nonce"]
        self.max_chars: int = payload["max_value_chars"]
        self.call_timeout = float(payload["call_timeout"])
        self.deadline = time.monotonic() + float(payload["budget"])
        self.entry: str | None = payload["entry"]
        self.candidate: Child | None = None
        self.exports: dict[str, Any] | None = None
        self.restarts = 0
        self.armed = False
        # Tests whose failure settles that the candidate is out, so its inputs are not run.
        self.gate = set(payload.get("gate", []))
        self.gated = False
        signal.signal(signal.SIGALRM, self._on_alarm)

    def _on_alarm(self, signum: int, frame: Any) -> None:
        if self.armed:
            self.armed = False
            raise Deadline

    def emit(self, record: dict[str, Any]) -> None:
        self.emit_all([record])

    def emit_all(self, records: list[dict[str, Any]]) -> None:
        for r in records:
            if r.get("k") == "test" and r.get("id") in self.gate and r.get("o") != "pass":
                self.gated = True
        # Written at once: a job killed later keeps every outcome before it.
        text = "".join(self.nonce + json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        data = text.encode("utf-8", "backslashreplace")
        while data:
            data = data[os.write(1, data) :]

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def recv(self, child: Child, timeout: float) -> Any:
        """The child's next message within `timeout` (and the job's budget), or Deadline."""
        limit = min(timeout, self.remaining())
        if limit <= 0:
            raise Deadline
        self.armed = True
        signal.setitimer(signal.ITIMER_REAL, max(limit, 0.001))
        try:
            return recv_msg(child.rfd)
        finally:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)

    # -- the candidate process --------------------------------------------------------------
    def start_candidate(self) -> dict[str, Any]:
        """A fresh candidate process with the code loaded: its load report."""
        try:
            child = spawn(lambda r, w: CandidateServer(r, w, self.call_timeout).serve())
        except OSError as exc:  # no process left under the job's limit
            return {"error": {"type": "ProcessLimit", "message": f"cannot start: {exc}"}}
        self.candidate = child
        timeout = float(self.payload["load_timeout"])
        try:
            send_msg(
                child.wfd, {"op": "load", "code": self.payload["code"], "cap": TEST_VALUE_CHARS}
            )
            report: dict[str, Any] = self.recv(child, timeout)
        except Deadline:
            child.kill()
            return {"error": _describe("timeout", None), "output": ""}
        except (ChannelClosed, OSError):
            child.kill()
            return {"error": _crashed("while loading"), "output": ""}
        return report

    def candidate_ready(self) -> bool:
        if self.candidate is not None and self.candidate.alive:
            return True
        if self.restarts >= MAX_RESTARTS or self.remaining() <= 0:
            return False
        self.restarts += 1
        return "error" not in self.start_candidate()

    def call(self, fn: str, args: Any, cap: int) -> dict[str, Any]:
        """One call of the candidate's `fn`, as data, or why there is none."""
        if not self.candidate_ready():
            return {"o": "skipped", "e": "the candidate cannot be run any more"}
        child = self.candidate
        assert child is not None
        try:
            send_msg(child.wfd, {"op": "call", "fn": fn, "args": args, "cap": cap})
            reply = self.recv(child, self.call_timeout + BACKSTOP_S)
        except Deadline:
            child.kill()
            return {"o": "timeout"}
        except (ChannelClosed, OSError):
            child.kill()
            return {"o": "raised", "e": _crash_text()}
        return _clean_call(reply)

    # -- the stages -------------------------------------------------------------------------
    def load(self) -> bool:
        report = self.start_candidate()
        output = _text(report.get("output"))
        record: dict[str, Any] = {"k": "load", "output": output[: CAPTURE_CHARS + 100]}
        exports = _clean_exports(report.get("exports"))
        if "error" in report or exports is None:
            record["error"] = _clean_error(report.get("error"))
        else:
            self.exports = exports
            entry = self.entry
            names = set(exports.get("callables", [])) | set(exports.get("classes", []))
            if entry is not None and entry not in names:
                defined = sorted(n for n in names if not n.startswith("_"))
                record["error"] = {
                    "type": "MissingEntryPoint",
                    "message": f"the code does not define a function {entry!r}"
                    + (f"; it defines: {', '.join(defined[:10])}" if defined else ""),
                }
            elif entry is None:
                data = exports.get("data", {})
                record["has_result"] = "result" in data
                if "result" in data:
                    record["result"] = json.loads(cap_encoded(data["result"], self.max_chars))
                record["files"] = written_files()
        self.emit(record)
        return "error" not in record

    def run_tests(self) -> None:
        """Every case, in two test processes: one for the tests written apart from the code
        (the task's, the test designer's), one for those the coders wrote beside theirs, so
        a coder's hostile test can reach no outcome of the former. (Processes cost
        milliseconds each: one per group would multiply that by the number of coders.)"""
        groups = self.payload["groups"]
        apart = [g for g, group in enumerate(groups) if group.get("source") != "candidate"]
        beside = [g for g, group in enumerate(groups) if group.get("source") == "candidate"]
        for members in (apart, beside):
            if members:
                self.run_groups([groups[g] for g in members])

    def run_groups(self, groups: list[dict[str, Any]]) -> None:
        assert self.exports is not None
        in_process = self.entry is not None and self.entry in self.exports.get("classes", [])
        runner: Child | None = None
        for g, group in enumerate(groups):
            for index, test in enumerate(group["tests"]):
                if self.remaining() <= 0:
                    self.emit({"k": "test", "id": test["id"], "o": "skipped",
                               "error": _describe("skipped", None)})  # fmt: skip
                    continue
                if in_process:
                    outcome = self.case_in_candidate(group, test)
                    self.emit({"k": "test", "id": test["id"], **outcome})
                    continue
                if runner is None or not runner.alive:
                    try:
                        runner = spawn(
                            lambda r, w: TestRunner(r, w, groups, self.exports or {}).serve()
                        )
                    except OSError as exc:
                        error = {"type": "ProcessLimit", "message": f"cannot start: {exc}"}
                        self.emit({"k": "test", "id": test["id"], "o": "error", "error": error})
                        continue
                outcome = self.run_case(runner, g, index)
                if outcome.get("o") == "in_process":
                    outcome = self.case_in_candidate(group, test)
                self.emit({"k": "test", "id": test["id"], **outcome})
        if runner is not None:
            runner.kill()

    def run_case(self, runner: Child, group: int, index: int) -> dict[str, Any]:
        timed_out = False
        try:
            send_msg(runner.wfd, {"op": "case", "g": group, "i": index})
            while True:
                msg = self.recv(runner, self.call_timeout)
                if not isinstance(msg, dict):
                    raise ChannelClosed("not a message")
                if msg.get("op") == "call":
                    reply = self.call(str(msg.get("fn")), msg.get("args"), TEST_VALUE_CHARS)
                    timed_out = timed_out or reply["o"] == "timeout"
                    send_msg(runner.wfd, reply)
                elif msg.get("op") == "done":
                    break
                else:
                    raise ChannelClosed("unexpected message")
        except Deadline:
            runner.kill()
            return {"o": "timeout", "error": _describe("timeout", None)}
        except (ChannelClosed, OSError):
            runner.kill()
            if not timed_out:
                return {"o": "error", "error": _crashed("in the test's own process")}
        if timed_out:
            return {"o": "timeout", "error": _describe("timeout", None)}
        return _clean_test(msg)

    def case_in_candidate(self, group: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
        if not self.candidate_ready():
            return {"o": "skipped", "error": _describe("skipped", None)}
        child = self.candidate
        assert child is not None
        try:
            send_msg(child.wfd, {"op": "case", "setup": group["setup"], "case": test})
            reply = self.recv(child, self.call_timeout + BACKSTOP_S)
        except Deadline:
            child.kill()
            return {"o": "timeout", "error": _describe("timeout", None), "in_process": True}
        except (ChannelClosed, OSError):
            child.kill()
            return {"o": "error", "error": _crashed("during the test"), "in_process": True}
        return {**_clean_test(reply), "in_process": True}

    def run_calls(self) -> None:
        """Every differential input, streamed in batches. A hang ends the candidate's inputs at
        once (one more wait would prove nothing new); a crash is the outcome of its input, and a
        fresh process goes on from the next one. When a crash or a hang took a batch with it,
        the inputs from there are run again one outcome per message, so that the outcome lands
        on the input that caused it."""
        inputs = self.payload["inputs"]
        entry = self.entry
        assert entry is not None
        stop_reason = ""
        index = 0
        precise = False
        stop = bool(self.payload.get("stop_at_timeout", True))
        while index < len(inputs) and not stop_reason:
            if not self.candidate_ready():
                stop_reason = "the candidate cannot be run any more"
                break
            child = self.candidate
            assert child is not None
            try:
                send_msg(child.wfd, {"op": "calls", "fn": entry, "inputs": inputs[index:],
                                     "start": index, "cap": self.max_chars,
                                     "batch": 1 if precise else 64, "stop": stop,
                                     "adaptive": self.payload.get("adaptive", False)})  # fmt: skip
                limit = self.call_timeout
                while index < len(inputs) and not stop_reason:
                    message = self.recv(child, limit + BACKSTOP_S)
                    batch = message.get("b") if isinstance(message, dict) else None
                    if not isinstance(batch, list) or not batch:
                        raise ChannelClosed("not a batch")
                    # The candidate process says how long its next call may take; the judge
                    # never waits longer than its own limit, whatever it says.
                    told = message.get("t")
                    if isinstance(told, int | float) and not isinstance(told, bool):
                        limit = min(self.call_timeout, max(0.0, float(told)))
                    records = []
                    for reply in batch[: len(inputs) - index]:
                        record = {"k": "call", **_clean_call(reply), "i": index}
                        records.append(record)
                        index += 1
                        if record["o"] == "timeout" and stop:
                            stop_reason = "gave up: it hangs"
                            break
                    self.emit_all(records)
            except Deadline:
                child.kill()
                if self.remaining() <= 0:
                    stop_reason = "the candidate's time budget ran out"
                elif precise:
                    self.emit({"k": "call", "i": index, "o": "timeout"})
                    index += 1
                    stop_reason = "gave up: it hangs" if stop else ""
                precise = not precise or not stop
            except (ChannelClosed, OSError):
                child.kill()
                if precise:
                    self.emit({"k": "call", "i": index, "o": "raised", "e": _crash_text()})
                    index += 1
                    precise = False  # back to batches after the next start
                else:
                    precise = True
        for rest in range(index, len(inputs)):
            self.emit({"k": "call", "i": rest, "o": "skipped", "e": stop_reason})

    def main(self) -> None:
        try:
            if self.load():
                if self.payload["groups"]:
                    self.run_tests()
                if self.entry is not None and self.payload["inputs"]:
                    if self.gated:
                        why = "not called: it fails one of the task's own examples or tests"
                        self.emit_all(
                            [{"k": "call", "i": i, "o": "skipped", "e": why}
                             for i in range(len(self.payload["inputs"]))]
                        )  # fmt: skip
                    else:
                        self.run_calls()
        finally:
            if self.candidate is not None:
                self.candidate.kill()
        self.emit({"k": "done"})


# -- what the judge accepts from its children ------------------------------------------------


def _clean_call(reply: Any) -> dict[str, Any]:
    """A call outcome from the candidate process, checked field by field: it may be anything."""
    if not isinstance(reply, dict):
        return {"o": "raised", "e": "HarnessError: malformed reply"}
    kind = reply.get("o")
    if kind == "value" and isinstance(reply.get("v"), str):
        try:
            out: dict[str, Any] = {"o": "value", "v": json.loads(reply["v"])}
            if isinstance(reply.get("a"), str):
                out["a"] = json.loads(reply["a"])
        except ValueError:
            return {"o": "raised", "e": "HarnessError: malformed value"}
        return out
    if kind in ("raised", "skipped"):
        return {"o": kind, "e": _text(reply.get("e"))[:600]}
    if kind == "timeout":
        return {"o": "timeout"}
    return {"o": "raised", "e": "HarnessError: malformed reply"}


def _clean_test(reply: Any) -> dict[str, Any]:
    if not isinstance(reply, dict) or reply.get("o") not in ("pass", "fail", "error", "in_process"):
        return {"o": "error", "error": {"type": "HarnessError", "message": "malformed outcome"}}
    out: dict[str, Any] = {"o": reply["o"]}
    for key in ("actual", "expected"):
        if isinstance(reply.get(key), str):
            out[key] = reply[key][:400]
    if "error" in reply:
        out["error"] = _clean_error(reply["error"])
    calls = reply.get("calls")
    if isinstance(calls, list):
        out["calls"] = [_text(c)[:300] for c in calls[:CALL_LOG]]
    return out


def _clean_error(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    line = raw.get("line")
    return {
        "type": _text(raw.get("type", "Error"))[:100],
        "message": _text(raw.get("message", ""))[:600],
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
        "where": _text(raw["where"])[:20] if isinstance(raw.get("where"), str) else None,
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _clean_exports(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None

    def names(key: str) -> list[str]:
        value = raw.get(key)
        return [n for n in value if isinstance(n, str)] if isinstance(value, list) else []

    def mapping(key: str) -> dict[str, str]:
        value = raw.get(key)
        if not isinstance(value, dict):
            return {}
        return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}

    return {
        "callables": names("callables"),
        "classes": names("classes"),
        "data": mapping("data"),
        "modules": mapping("modules"),
    }


def _crash_text() -> str:
    return CRASHED


def _crashed(when: str) -> dict[str, Any]:
    return {"type": "Crashed", "message": f"the process died {when}"}


# -- the in-process toolkit --------------------------------------------------------------------


class Guard:
    """Per-call timers and capped capture for code run in this very process."""

    def __init__(self, budget_s: float) -> None:
        self.deadline = time.monotonic() + budget_s
        self.armed = False
        self.sink = _Sink()
        signal.signal(signal.SIGALRM, self._on_alarm)

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


class InProcessHarness(Guard):
    """A Guard that writes records itself: for the optimizer's timing harness, which measures
    speed in the candidate's own process, not correctness."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(float(payload["budget"]))
        self.payload = payload
        self.nonce: str = payload["nonce"]
        self.pending: list[str] = []
        self.out_fd = 1  # not a dup: the job ends when its stdout closes, so never hold a copy

    def emit(self, record: dict[str, Any]) -> None:
        self.pending.append(self.nonce + json.dumps(record, separators=(",", ":")) + "\n")
        self.flush()

    def flush(self) -> None:
        data = "".join(self.pending).encode("utf-8", "backslashreplace")
        self.pending.clear()
        while data:
            data = data[os.write(self.out_fd, data) :]


# -- shared helpers ----------------------------------------------------------------------------


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
        "line": line if isinstance(line, int) else None,
        "where": frames[-1].filename.strip("<>") if frames else None,
    }


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:500]
    except Exception:
        return "<message unavailable>"


def _short(value: Any, limit: int = 300) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def written_files() -> list[dict[str, Any]]:
    """What the candidate wrote into the work dir while it loaded: its output files. The input
    links, the harness's own files and dot-files (caches) are not among them."""
    out: list[dict[str, Any]] = []
    budget = WRITTEN_TOTAL_BYTES
    for root, dirs, files in os.walk("."):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d))
        )
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.startswith(".") or os.path.islink(path) or len(out) >= WRITTEN_FILES:
                continue
            try:
                with open(path, "rb") as f:
                    data = f.read(WRITTEN_FILE_BYTES + 1)
                    entry: dict[str, Any] = {"name": os.path.relpath(path, "."), "size": len(data)}
                    if len(data) <= min(WRITTEN_FILE_BYTES, budget):
                        budget -= len(data)
                        entry["data"] = base64.b64encode(data).decode("ascii")
                    else:
                        digest = hashlib.sha256(data)
                        for chunk in iter(lambda: f.read(1 << 20), b""):
                            digest.update(chunk)
                            entry["size"] += len(chunk)
                        entry["sha256"] = digest.hexdigest()
            except OSError:
                continue
            out.append(entry)
    return out


def harness_main() -> None:
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # huge integer results must encode, not raise
    with open(".mca-payload.json", encoding="utf-8") as f:
        payload = json.load(f)
    for name in (".mca-payload.json", ".mca-harness.bin"):
        os.unlink(name)  # input, not artifacts worth returning
    Judge(payload).main()
