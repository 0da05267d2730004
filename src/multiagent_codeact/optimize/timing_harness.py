"""The program that times one or two candidates inside the sandbox, on inputs that grow.

Shipped as source after codec.py's and verify/harness.py's (it reuses `InProcessHarness` for
per-call timers and streamed output) and run as one sandbox job. Timing inside the job, around
the call alone, keeps the sandbox's start-up and transfer costs out of the numbers. With two
programs the repeats alternate between them (A B B A ...), so a slow patch of the machine hurts
both alike instead of whichever happened to run during it.

Records: {"k": "time", "i": input, "p": program, "o": kind, "ns": [per-call ns, ...]},
{"k": "lines", ...} (line hit counts of one traced call), {"k": "memory", ...} and
{"k": "state", "p": program, "grew": [...]} (what a program keeps across calls).
"""

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time these come from the source shipped ahead of this one
    from ..verify.codec import decode
    from ..verify.harness import CANDIDATE_FILE, InProcessHarness, _describe

MIN_SAMPLE_NS = 1_000_000  # shorter samples are mostly timer and loop noise: repeat the call
MAX_NUMBER = 1000  # calls per sample at most, however fast one call is
LINE_PROFILE_NS = 20_000_000  # trace a call that took at most this long untraced (tracing: ~20x)


class TimingHarness(InProcessHarness):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.turns: dict[tuple[int, int], int] = {}
        self.namespaces: list[dict[str, Any]] = []

    def load_programs(self) -> list[Any] | None:
        entry: str = self.payload["entry"]
        fns = []
        for index, code in enumerate(self.payload["programs"]):
            namespace: dict[str, Any] = {"__name__": "__candidate__", "__builtins__": __builtins__}
            kind, value = self.guarded(
                lambda code=code, namespace=namespace: exec(
                    compile(code, CANDIDATE_FILE, "exec"), namespace
                ),
                float(self.payload["load_timeout"]),
            )
            if kind != "value" or not callable(namespace.get(entry)):
                error = (
                    _describe(kind, value)
                    if kind != "value"
                    else {"type": "MissingEntryPoint", "message": f"no function {entry!r}"}
                )
                self.emit({"k": "load", "p": index, "error": error})
                return None
            fns.append(namespace[entry])
            self.namespaces.append(namespace)
        self.emit({"k": "load"})
        return fns

    def sample(self, fn: Any, index: int, number: int, program: int = 0) -> tuple[str, Any]:
        """Per-call ns of `number` calls, each on a fresh copy of the arguments (a call may
        change its arguments in place); the copies are made before the clock starts.

        Successive calls take successive variants of the input (same size, other values), so
        a rewrite that caches its answers across calls is timed on inputs it has not seen;
        each program goes through the variants in the same order, for paired samples."""
        pool = [
            self.payload["inputs"][index],
            *self.payload.get("variants", {}).get(str(index), []),
        ]
        turn = self.turns.get((program, index), 0)
        copies = [decode(pool[(turn + j) % len(pool)]) for j in range(number)]
        self.turns[(program, index)] = turn + number

        def timed() -> float:
            start = time.perf_counter_ns()
            for args in copies:
                fn(*args)
            return (time.perf_counter_ns() - start) / number

        return self.guarded(timed, float(self.payload["call_timeout"]) * number)

    def time_inputs(self, fns: list[Any]) -> dict[int, dict[int, float]]:
        """Time every program on every input until it gets too slow; returns, per program, the
        median ns of each input it was timed on in full."""
        repeats = int(self.payload["repeats"])
        stop_ns = float(self.payload["stop_s"]) * 1e9
        active = set(range(len(fns)))
        medians: dict[int, dict[int, float]] = {p: {} for p in range(len(fns))}
        for index in range(len(self.payload["inputs"])):
            numbers: dict[int, int] = {}
            samples: dict[int, list[float]] = {}
            for p in sorted(active):
                kind, value = self.sample(fns[p], index, 1, p)  # also the warm-up call
                if kind != "value":
                    self.emit({"k": "time", "i": index, "p": p, "o": kind, "e": _why(kind, value)})
                    if kind in ("timeout", "skipped"):
                        active.discard(p)
                    continue
                if value > stop_ns:  # one call is enough to say it has grown too slow
                    self.emit({"k": "time", "i": index, "p": p, "o": "value", "ns": [value]})
                    active.discard(p)
                    continue
                numbers[p] = max(1, min(MAX_NUMBER, int(MIN_SAMPLE_NS // max(value, 1.0))))
                samples[p] = []
            for r in range(repeats):
                order = sorted(numbers) if r % 2 == 0 else sorted(numbers, reverse=True)
                for p in order:
                    if p not in samples:
                        continue
                    kind, value = self.sample(fns[p], index, numbers[p], p)
                    if kind != "value":
                        self.emit(
                            {"k": "time", "i": index, "p": p, "o": kind, "e": _why(kind, value)}
                        )
                        del samples[p]
                        if kind in ("timeout", "skipped"):
                            active.discard(p)
                        continue
                    samples[p].append(value)
            for p, ns in samples.items():
                self.emit({"k": "time", "i": index, "p": p, "o": "value", "ns": ns})
                median = sorted(ns)[len(ns) // 2]
                medians[p][index] = median
                if median > stop_ns:
                    active.discard(p)
            if not active:
                break
        return medians

    def trace_lines(self, fn: Any, index: int) -> None:
        """Line hit counts of one call, from sys.settrace: which lines the time goes to."""
        counts: dict[str, int] = {}

        def local(frame: Any, event: str, arg: Any) -> Any:
            if event == "line":
                key = f"{frame.f_code.co_name}:{frame.f_lineno}"
                counts[key] = counts.get(key, 0) + 1
            return local

        def on_call(frame: Any, event: str, arg: Any) -> Any:
            return local if frame.f_code.co_filename == CANDIDATE_FILE else None

        args = decode(self.payload["inputs"][index])

        def traced() -> None:
            sys.settrace(on_call)
            try:
                fn(*args)
            finally:
                sys.settrace(None)

        kind, _ = self.guarded(traced, float(self.payload["call_timeout"]))
        self.emit({"k": "lines", "i": index, "complete": kind != "timeout", "counts": counts})

    def measure_memory(self, fn: Any, index: int) -> None:
        method = self.payload["memory"]
        if method == "tracemalloc":
            try:
                import tracemalloc
            except ImportError:
                method = "maxrss"
            else:
                args = decode(self.payload["inputs"][index])
                tracemalloc.start()
                try:
                    kind, _ = self.guarded(lambda: fn(*args), float(self.payload["call_timeout"]))
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
                if kind == "value":
                    self.emit({"k": "memory", "i": index, "method": method, "bytes": peak})
                return
        resource = sys.modules.get("resource")  # loaded by the jail itself: no import needed
        if method == "maxrss" and resource is not None:
            kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.emit({"k": "memory", "i": index, "method": method, "bytes": kib * 1024})

    def report_state(self, before: list[dict[str, int]]) -> None:
        """What each program's module-level containers and caches hold now that they did not
        before timing: a program that remembers answers across calls is timed on its memory."""
        for p, (namespace, sizes) in enumerate(zip(self.namespaces, before, strict=True)):
            grew = [
                f"{name}: {sizes.get(name, 0)} -> {n} entries"
                for name, n in _state_sizes(namespace).items()
                if n > sizes.get(name, 0)
            ]
            if grew:
                self.emit({"k": "state", "p": p, "grew": grew[:5]})

    def main(self) -> None:
        fns = self.load_programs()
        if fns is not None:
            state = [_state_sizes(namespace) for namespace in self.namespaces]
            timed = self.time_inputs(fns)
            self.report_state(state)
            medians = timed[0]
            if len(fns) == 1 and medians:
                if self.payload["line_profile"]:
                    # The largest input that traces in reasonable time.
                    cheap = [i for i, ns in medians.items() if ns <= LINE_PROFILE_NS]
                    self.trace_lines(fns[0], max(cheap) if cheap else min(medians))
                if self.payload["memory"]:
                    self.measure_memory(fns[0], max(medians))
        self.emit({"k": "done"})
        self.flush()


def _state_sizes(namespace: dict[str, Any]) -> dict[str, int]:
    """Entries in what a program can keep between calls: module-level containers, caches of
    functools (cache_info), mutable default arguments, and its functions' attributes."""
    sizes: dict[str, int] = {}

    def measure(name: str, value: Any) -> None:
        try:
            if isinstance(value, (dict, list, set, bytearray)) or type(value).__name__ == "deque":
                sizes[name] = len(value)
            elif callable(getattr(value, "cache_info", None)):
                sizes[name] = int(value.cache_info().currsize)
        except Exception:  # a hostile object's len(): it is not evidence of anything
            pass

    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        measure(name, value)
        for i, default in enumerate(getattr(value, "__defaults__", None) or ()):
            measure(f"{name} default #{i + 1}", default)
        for attr, held in list((getattr(value, "__dict__", None) or {}).items()):
            if callable(value):
                measure(f"{name}.{attr}", held)
    return sizes


def _why(kind: str, value: Any) -> str:
    described = _describe(kind, value)
    return f"{described['type']}: {described['message']}"


def timing_main() -> None:
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    with open(".mca-payload.json", encoding="utf-8") as f:
        payload = json.load(f)
    for name in (".mca-payload.json", ".mca-harness.bin"):
        os.unlink(name)
    TimingHarness(payload).main()
