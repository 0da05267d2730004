"""solve / asolve: task -> candidates -> executions -> verdict -> (repair) -> solution.

Coders are asked concurrently, each with its own strategy hint and temperature and its own
conversation, so candidates are independent and wall time follows the slowest chain of model
calls, not their sum. The test designer works from the task alone, at the same time. Each round
the verification engine cross-checks the latest candidate of every coder; coders whose
candidate lost get the evidence against it and try again, up to `repair_rounds` times.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .agents.chat import Conversation, prompt, prompt_lines
from .agents.feedback import feedback_for, feedback_for_reply, needs_repair
from .agents.parsing import ParsedReply, parse_coder_reply, parse_judge_reply, parse_tests_reply
from .config import PipelineConfig
from .domain import AgentUsage, Candidate, Solution, Task, Verdict
from .errors import InputFileError, MCAError
from .events import Recorder, Sink
from .fatal import ends_run, gather_or_cancel, run_failed
from .models import (
    Budget,
    BudgetExceededError,
    CallRecord,
    Limiter,
    MeteredChatClient,
    ModelConfig,
    Usage,
    make_client,
    resolve_model,
)
from .models.http import new_http_client
from .optimize.report import OptimizationReport
from .sandbox import Sandbox
from .sandbox.inputs import scan_inputs
from .sandbox.policy import PRESET_LIBRARIES as PRESETS
from .sandbox.policy import installed_presets
from .task_text import entry_point_in
from .verify import VerificationReport, averify
from .verify.engine import task_input_plan
from .verify.scoring import same_program

if TYPE_CHECKING:
    from .runlog.store import RunStore

# What the coder is told it may import beyond the stdlib: the sandbox's preset libraries that
# this Python has, so a model is never promised a library that cannot be imported.
PRESET_LIBRARIES = ", ".join(p for p in PRESETS if p in installed_presets())


def as_task(task: str | Task) -> Task:
    """A Task from text: a function task when the text names one (`def f(`, "function named
    f", "function f(a, b)", "a function f that", `assert f(...)`), a computation task
    otherwise."""
    if isinstance(task, Task):
        return task
    if not task.strip():
        raise ValueError("the task is empty: describe what the code should do")
    return Task(prompt=task, entry_point=entry_point_in(task))


def solve(
    task: str | Task,
    *,
    config: PipelineConfig | str | os.PathLike[str] | None = None,
    model: ModelConfig | str | None = None,
    sinks: Iterable[Sink] = (),
    sandbox: Sandbox | None = None,
    store: RunStore | None = None,
) -> Solution:
    """The synchronous form of `asolve`; inside a running event loop, await `asolve`."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(
            asolve(task, config=config, model=model, sinks=sinks, sandbox=sandbox, store=store)
        )
    raise RuntimeError("solve() was called inside a running event loop; use `await asolve()`")


async def asolve(
    task: str | Task,
    *,
    config: PipelineConfig | str | os.PathLike[str] | None = None,
    model: ModelConfig | str | None = None,
    sinks: Iterable[Sink] = (),
    sandbox: Sandbox | None = None,
    store: RunStore | None = None,
    run_id: str | None = None,
) -> Solution:
    """Solve `task` with checked code. Raises only for what the caller must fix (no model
    configured, an empty task, an input file that is missing or too large (InputFileError),
    a run folder that cannot be created, a broken model endpoint:
    a `ModelError` with `ends_run`, raised at the first call that shows it, with `run_id`
    set); everything else that goes wrong during the run is in the Solution.

    `config` is a PipelineConfig or the path of a pipeline YAML file (its settings are used).
    The run is recorded (run.json, events.jsonl, artifacts) in `store`, or, when none is given,
    in $MCODEACT_RUNS_DIR if that is set; a library call writes no files otherwise.
    """
    cfg = _config(config)
    the_task = as_task(task)
    # Before any model is asked: a missing input file is the caller's to fix, not a hard task.
    scan_inputs(the_task.files, max_mb=sandbox.input_mb if sandbox is not None else cfg.input_mb)
    models = resolve_models(cfg, model)
    secrets = [v for m in models.values() if (v := os.environ.get(m.api_key_env))]
    recorder = Recorder(run_id or new_run_id(), sinks, secrets=secrets)
    store = store if store is not None else _store_from_env()
    writer = None
    if store is not None:
        writer = store.open_run(
            recorder.run_id,
            task=the_task,
            config=cfg.public_dump(),
            models={role: m.model for role, m in models.items()},
            secrets=secrets,
        )
        recorder.add_sink(writer)
    run = _Run(task=the_task, cfg=cfg, models=models, recorder=recorder)
    try:
        if sandbox is not None:
            solution = await run.execute(sandbox)
        else:
            async with Sandbox(
                cfg.limits,
                pool_size=cfg.sandbox_pool,
                allow_imports=cfg.allow_imports,
                isolation=cfg.isolation,
                input_mb=cfg.input_mb,
            ) as own:
                solution = await run.execute(own)
    except BaseException as exc:  # Ctrl-C, cancellation, a sandbox that cannot start
        if writer is not None:
            # A broken model endpoint or input file: the run failed, it was not interrupted.
            broken = ends_run(exc) or isinstance(exc, InputFileError)
            writer.abort(
                f"{type(exc).__name__}: {exc}", status="failed" if broken else "interrupted"
            )
        raise
    if writer is not None:
        await asyncio.to_thread(writer.finish, solution)  # it fsyncs: keep that off the loop
    return solution


def _config(config: PipelineConfig | str | os.PathLike[str] | None) -> PipelineConfig:
    """The settings: given, or a pipeline YAML file's (its tasks are not used here)."""
    if config is None:
        return PipelineConfig()
    if isinstance(config, PipelineConfig):
        return config
    from .pipeline_file import load_pipeline

    return load_pipeline(config).config


def _store_from_env() -> RunStore | None:
    if not os.environ.get("MCODEACT_RUNS_DIR"):
        return None
    from .runlog.store import RunStore

    return RunStore()


async def _no_inputs() -> list[tuple[Any, ...]] | None:
    return None


async def _to_the_end(closing: Coroutine[Any, Any, None]) -> None:
    """Await `closing` to its end even when the caller is cancelled meanwhile (then re-raise):
    a run cut short, as a batch cancels its other tasks, must still close its connections."""
    task = asyncio.ensure_future(closing)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def resolve_models(cfg: PipelineConfig, model: ModelConfig | str | None) -> dict[str, ModelConfig]:
    """The model of every role a run with `cfg` will ask (raises ModelNotConfiguredError)."""
    default = model if model is not None else cfg.model
    base = resolve_model(default)
    roles = {"coder": cfg.agents.coder, "test_designer": cfg.agents.test_designer}
    if cfg.judge:
        roles["judge"] = cfg.agents.judge
    if cfg.optimizer.enabled:
        roles["optimizer"] = cfg.agents.optimizer
    return {role: resolve_model(m) if m is not None else base for role, m in roles.items()}


@dataclass
class _Slot:
    """One coder: its conversation and its latest candidate."""

    index: int
    strategy: str
    conversation: Conversation
    candidate: Candidate | None = None
    last_reply: ParsedReply | None = None
    rounds: int = 0


@dataclass
class _Run:
    task: Task
    cfg: PipelineConfig
    models: dict[str, ModelConfig]
    recorder: Recorder
    usage: Usage = field(default_factory=Usage)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None  # why no more model calls are made (budget spent)
    adjudications: int = 0  # test-designer calls made to settle disputes
    clients: list[MeteredChatClient] = field(default_factory=list)
    brief: str = ""  # the task as the agents read it: its prompt and its input files

    def __post_init__(self) -> None:
        b = self.cfg.budget
        self.budget = Budget(max_total_tokens=b.max_total_tokens, max_cost_usd=b.max_cost_usd)
        # One bound on requests in flight for the whole run, whichever agent sends them, and one
        # connection pool: a transport per agent would cost 30-50 ms each before the first call.
        self.limiter = Limiter(self.models["coder"].max_concurrency)
        self.http = new_http_client()  # on the process's one TLS context (models/http.py)
        self.brief = self.task.prompt

    def _client(self, model: ModelConfig, agent: str, sample: int = 0) -> MeteredChatClient:
        client = make_client(
            model, agent=agent, usage=self.usage, budget=self.budget, limiter=self.limiter,
            on_call=self._on_call, sample=sample, http_client=self.http,
        )  # fmt: skip
        self.clients.append(client)
        return client

    async def execute(self, sandbox: Sandbox) -> Solution:
        started = time.perf_counter()
        self.recorder.emit(
            "run_started",
            task=self.task.model_dump(mode="json"),
            config=self.cfg.public_dump(),
            models={role: m.model for role, m in self.models.items()},
        )
        try:
            async with self._given_inputs(sandbox) as box:
                solution = await self._solve(box)
        except MCAError as exc:  # a sandbox that cannot start, and the like
            if isinstance(exc, InputFileError):  # gone or changed since the check: the caller's
                raise
            if ends_run(exc):  # a broken model endpoint: for the caller to fix, so raised
                run_failed(exc, self.recorder, usage=self._usage_json())
                raise
            self.recorder.emit("error", message=str(exc), type=type(exc).__name__)
            solution = self._solution(None, None, error=str(exc), rounds=0)
        finally:
            await _to_the_end(self._close_connections())
        solution = solution.model_copy(
            update={"duration_ms": (time.perf_counter() - started) * 1000}
        )
        self.recorder.emit(
            "run_finished",
            verdict=solution.verdict.value,
            confidence=solution.confidence,
            error=solution.error,
            usage={k: v.model_dump() for k, v in solution.usage.items()},
            duration_ms=solution.duration_ms,
        )
        return solution

    async def _close_connections(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        await self.http.aclose()

    @asynccontextmanager
    async def _given_inputs(self, sandbox: Sandbox) -> AsyncIterator[Sandbox]:
        """The sandbox whose every job finds the task's input files (copied in once, removed
        when the run ends), and the brief that tells the agents of them."""
        if not self.task.files:
            yield sandbox
            return
        staged = await asyncio.to_thread(sandbox.input_files, self.task.files)
        try:
            listing = staged.describe()
            self.brief = f"{self.task.prompt.rstrip()}\n\n{prompt('input_files', listing=listing)}"
            self.recorder.emit(
                "input_files",
                files=[{"name": name, "size": size} for name, size in staged.files],
                total_bytes=staged.total_bytes,
            )
            yield sandbox.with_inputs(staged)
        finally:
            await asyncio.to_thread(staged.close)

    # -- the rounds -----------------------------------------------------------------------
    async def _solve(self, sandbox: Sandbox) -> Solution:
        # Hypothesis draws the differential inputs while the models think: off the critical path.
        n_inputs = self.cfg.verify.n_inputs
        try:
            plan = task_input_plan(self.task)  # reads the prompt's code here, draws in a thread
        except Exception as exc:  # the verifier draws its own inputs then
            self.recorder.emit("error", agent="verifier", type=type(exc).__name__, message=str(exc))
            plan = None
        inputs_job = asyncio.create_task(
            asyncio.to_thread(plan.draw, n_inputs) if plan is not None else _no_inputs()
        )
        slots = self._slots()
        designer = self._designer()
        first = [self._ask(slot, self._coder_message(slot), round_=0) for slot in slots]
        designed, *_ = await gather_or_cancel(designer, *first)
        generated = [designed] if designed else []
        try:
            inputs = await inputs_job
        except Exception as exc:  # the verifier draws its own inputs then
            self.recorder.emit("error", agent="verifier", type=type(exc).__name__, message=str(exc))
            inputs = None
        report: VerificationReport | None = None
        rulings: list[str] = []  # the test designer's answers where rivals disagreed
        rounds = 0
        for round_ in range(self.cfg.repair_rounds + 1):
            rounds = round_ + 1
            candidates = [s.candidate for s in slots if s.candidate is not None]
            if candidates:
                report = await self._verify(sandbox, candidates, generated, inputs, rulings)
                if not report.verified and self._disputed_between_rivals(report):
                    # S*-style: ask, from the task alone, what the function must return where
                    # the rival behaviours disagree; the answer is one more independent test.
                    ruling = await self._adjudicate(report)
                    if ruling:
                        rulings.append(ruling)
                        report = await self._verify(sandbox, candidates, generated, inputs, rulings)
                if report.verified:
                    break
            if round_ == self.cfg.repair_rounds or self.stopped:
                break
            todo = [s for s in slots if self._should_repair(s, report)]
            messages = {s.index: self._repair_message(s, report) for s in todo}
            if not todo and report is not None:
                # Every coder agrees, but they are copies of one program: no second opinion
                # yet. One of them solves it again, independently.
                todo = self._copies(slots, report)[:1]
                messages = {s.index: self._independent_message(s) for s in todo}
            if not todo:
                break  # every coder agrees with the selection: more rounds add no evidence
            await gather_or_cancel(
                *(self._ask(s, messages[s.index], round_=round_ + 1) for s in todo)
            )
        if report is None:
            reason = self.stopped or (
                "no usable candidate: " + "; ".join(self.errors[-3:])
                if self.errors
                else "no usable candidate"
            )
            return self._solution(None, None, error=reason, rounds=rounds)
        return await self._finish(report, sandbox, rounds, generated, inputs)

    async def _verify(
        self,
        sandbox: Sandbox,
        candidates: list[Candidate],
        generated: list[str],
        inputs: list[tuple[Any, ...]] | None,
        rulings: list[str],
    ) -> VerificationReport:
        report = await averify(
            self.task,
            candidates,
            sandbox=sandbox,
            n_inputs=self.cfg.verify.n_inputs,
            call_timeout_s=self.cfg.verify.call_timeout_s,
            threshold=self.cfg.verify.threshold,
            generated_tests=generated,
            inputs=inputs,
            adjudicated_tests=rulings,
        )
        self._record_report(report)
        return report

    def _disputed_between_rivals(self, report: VerificationReport) -> bool:
        return (
            self.adjudications < self.cfg.verify.adjudicate
            and self.cfg.test_designer
            and self.task.entry_point is not None
            and not self.stopped
            and bool(report.evidence.counterexamples)
        )

    async def _adjudicate(self, report: VerificationReport) -> str | None:
        """Tests, from the task alone, for the inputs the leading behaviour and its strongest
        rival answer differently; None when the designer decides none of them."""
        self.adjudications += 1
        clusters = {c.index: c.probability for c in report.evidence.clusters}
        rival = max(
            {ce.cluster for ce in report.evidence.counterexamples},
            key=lambda i: clusters.get(i, 0.0),
        )
        cases = [ce for ce in report.evidence.counterexamples if ce.cluster == rival][:3]
        lines = "\n".join(
            f"- `{ce.call}`: one program gives {ce.selected_output}, the other {ce.rival_output}"
            for ce in cases
        )
        client = self._client(self.models["test_designer"], "test_designer")
        label = f"test_designer.adjudicate{self.adjudications}"
        conversation = Conversation(label, client, prompt("adjudicate"), self.recorder)
        try:
            text = await conversation.say(f"Task:\n{self.brief}\n\nDisagreements:\n{lines}")
        except BudgetExceededError as exc:
            self.stopped = f"budget spent: {exc}"
            return None
        except Exception as exc:  # the dispute stays a dispute
            if ends_run(exc):
                raise
            self.recorder.emit("error", agent=label, type=type(exc).__name__, message=str(exc))
            return None
        tests = parse_tests_reply(text)
        self.recorder.emit(
            "adjudication", agent=label, cases=[ce.call for ce in cases], tests=tests or None
        )
        return tests or None

    def _copies(self, slots: list[_Slot], report: VerificationReport) -> list[_Slot]:
        """Coders whose candidate is the selected program itself, sampled again: the selected
        one's cluster when it holds only one distinct program."""
        selected = report.selected
        if selected is None or report.verified:
            return []
        return [
            s
            for s in slots
            if s.candidate is not None
            and s.candidate.id != selected.id
            and same_program(s.candidate.code, selected.code)
        ]

    def _independent_message(self, slot: _Slot) -> str:
        strategies = prompt_lines("strategies")
        strategy = strategies[(slot.index + 3) % len(strategies)]
        self.recorder.emit("repair", agent=slot.conversation.label, feedback="independent re-solve")
        return prompt("independent", strategy=strategy)

    def _slots(self) -> list[_Slot]:
        strategies = prompt_lines("strategies")
        temps = self.cfg.temperatures
        slots = []
        for i in range(self.cfg.candidates):
            label = f"coder{i + 1}"
            model = self.models["coder"].model_copy(update={"temperature": temps[i % len(temps)]})
            client = self._client(model, label, sample=i)
            system = prompt("coder", libraries=PRESET_LIBRARIES, shape=self._shape())
            slots.append(
                _Slot(
                    index=i,
                    strategy=strategies[i % len(strategies)],
                    conversation=Conversation(label, client, system, self.recorder),
                )
            )
        return slots

    def _shape(self) -> str:
        entry = self.task.entry_point
        if entry is not None:
            return (
                f"Define a function named `{entry}` with exactly the parameters the task "
                "gives; the code is imported and the function is called, so do not read "
                "input or print the answer."
            )
        return (
            "Compute the answer and assign it to a variable named `result` (a number, string, "
            "list or dict); print anything a person would want to see."
        )

    def _coder_message(self, slot: _Slot) -> str:
        return f"Task:\n{self.brief}\n\nApproach: {slot.strategy}"

    def _repair_message(self, slot: _Slot, report: VerificationReport | None) -> str:
        if slot.candidate is None or report is None:
            reply = slot.last_reply
            text = feedback_for_reply(reply) if reply else "- Your last reply was not received."
        else:
            text = feedback_for(report, slot.candidate.id)
        self.recorder.emit("repair", agent=slot.conversation.label, feedback=text)
        return prompt("repair", feedback=text)

    def _should_repair(self, slot: _Slot, report: VerificationReport | None) -> bool:
        if slot.candidate is None:
            return True
        return report is not None and needs_repair(report, slot.candidate.id)

    async def _ask(self, slot: _Slot, message: str, *, round_: int) -> None:
        label = slot.conversation.label
        if self.stopped:
            return
        try:
            text = await slot.conversation.say(message)
        except BudgetExceededError as exc:
            self.stopped = f"budget spent: {exc}"
            self.recorder.emit("error", agent=label, type="BudgetExceeded", message=str(exc))
            return
        except Exception as exc:  # a model that fails must not sink the other candidates
            if ends_run(exc):  # ...but a broken endpoint fails them all: stop now
                raise
            self.errors.append(f"{label}: {exc}")
            self.recorder.emit("error", agent=label, type=type(exc).__name__, message=str(exc))
            return
        parsed = parse_coder_reply(text, self.task.entry_point)
        slot.last_reply = parsed
        slot.rounds = round_ + 1
        if parsed.code is not None:
            slot.candidate = Candidate(
                id=f"c{slot.index + 1}.{round_}",
                code=parsed.code,
                tests=parsed.tests,
                explanation=parsed.explanation,
                origin=f"{label} round {round_}: {slot.strategy}",
            )
        else:
            self.errors.append(f"{label}: " + "; ".join(parsed.problems))
        self.recorder.emit(
            "candidate",
            agent=label,
            round=round_,
            id=slot.candidate.id if parsed.code is not None and slot.candidate else None,
            usable=parsed.usable,
            problems=parsed.problems,
            code=parsed.code,
            tests=parsed.tests,
            explanation=parsed.explanation,
        )

    async def _designer(self) -> str | None:
        if not self.cfg.test_designer or self.task.entry_point is None or self.stopped:
            return None
        model = self.models["test_designer"]
        client = self._client(model, "test_designer")
        system = prompt("test_designer", shape=self._shape())
        conversation = Conversation("test_designer", client, system, self.recorder)
        try:
            text = await conversation.say(f"Task:\n{self.brief}")
        except Exception as exc:
            if ends_run(exc):
                raise
            self.errors.append(f"test_designer: {exc}")
            self.recorder.emit(
                "error", agent="test_designer", type=type(exc).__name__, message=str(exc)
            )
            return None
        tests = parse_tests_reply(text)
        return tests or None

    # -- the end --------------------------------------------------------------------------
    async def _finish(
        self,
        report: VerificationReport,
        sandbox: Sandbox,
        rounds: int,
        generated: list[str],
        inputs: list[tuple[Any, ...]] | None,
    ) -> Solution:
        selected = report.selected
        if selected is None:
            return self._solution(report, None, error="no candidate could be run", rounds=rounds)
        if report.verdict is Verdict.FAILED:
            # Every candidate fails the task's own examples: none of them is shown as the
            # answer (report.selected still names the closest, for whoever wants to look).
            return self._solution(report, None, error=report.reasons[0], rounds=rounds)
        optimization = None
        if self.cfg.optimizer.enabled and report.verified and not self.stopped:
            optimization = await self._optimize(selected, sandbox, generated, inputs)
            if optimization.code is not None:
                selected = selected.model_copy(update={"code": optimization.code})
        final = await sandbox.arun(selected.code)
        self.recorder.emit(
            "execution",
            agent="executor",
            candidate=selected.id,
            final=True,
            exit_code=final.exit_code,
            timed_out=final.timed_out,
            duration_ms=final.duration_ms,
            stdout=final.stdout[-4000:],
            stderr=final.stderr[-4000:],
            result=final.result,
            error=final.error.model_dump() if final.error else None,
            artifacts=[
                {"name": a.name, "mime_type": a.mime_type, "size": a.size} for a in final.artifacts
            ],
        )
        verdict: Verdict = report.verdict
        reasons = list(report.reasons)
        error = None
        if not final.ok:
            verdict = Verdict.FAILED if verdict is not Verdict.VERIFIED else Verdict.DISPUTED
            why = final.error.message if final.error else f"exit status {final.exit_status}"
            error = f"the selected code failed when run: {why}"
            reasons.insert(0, error)
        judge = await self._judge(selected, final.stdout, final.result) if self.cfg.judge else None
        if judge is not None and not judge[0]:
            if verdict is Verdict.VERIFIED:
                verdict = Verdict.DISPUTED
            reasons.insert(0, f"the judge says it does not answer the task: {judge[1]}")
        return self._solution(
            report,
            selected,
            rounds=rounds,
            verdict=verdict,
            reasons=reasons,
            result=final.result,
            stdout=final.stdout,
            artifacts=final.artifacts,
            judge=judge[1] if judge else None,
            error=error or self.stopped,
            optimization=optimization,
        )

    async def _optimize(
        self,
        selected: Candidate,
        sandbox: Sandbox,
        generated: list[str],
        inputs: list[tuple[Any, ...]] | None,
    ) -> OptimizationReport:
        """Faster code for the verified selection, kept only if proven equivalent and faster."""
        from .optimize.optimizer import optimize  # Hypothesis and the timing harness: on use

        try:
            return await optimize(
                self.task,
                selected.code,
                sandbox=sandbox,
                client_factory=lambda: self._client(self.models["optimizer"], "optimizer"),
                suites=[*generated, selected.tests],
                inputs=inputs,
                config=self.cfg.optimizer,
                recorder=self.recorder,
            )
        except Exception as exc:  # the verified code stands whatever goes wrong here
            why = f"{type(exc).__name__}: {exc}"
            self.recorder.emit("error", agent="optimizer", type=type(exc).__name__, message=why)
            return OptimizationReport(status="failed", reason=why)

    async def _judge(
        self, selected: Candidate, stdout: str, result: Any
    ) -> tuple[bool, str] | None:
        client = self._client(self.models["judge"], "judge")
        conversation = Conversation("judge", client, prompt("judge"), self.recorder)
        message = (
            f"Task:\n{self.brief}\n\nProgram:\n```python\n{selected.code}\n```\n\n"
            f"Printed output:\n{stdout[-2000:] or '(nothing)'}\n\nresult = {result!r}"[:12000]
        )
        try:
            verdict = parse_judge_reply(await conversation.say(message))
        except Exception as exc:
            if ends_run(exc):
                raise
            self.recorder.emit("error", agent="judge", type=type(exc).__name__, message=str(exc))
            return None
        if verdict is None:
            self.recorder.emit("judge", agent="judge", usable=False)
            return None
        self.recorder.emit(
            "judge", agent="judge", answers_task=verdict.answers_task, reason=verdict.reason
        )
        return verdict.answers_task, verdict.reason

    def _solution(
        self,
        report: VerificationReport | None,
        selected: Candidate | None,
        *,
        rounds: int,
        error: str | None = None,
        verdict: Verdict | None = None,
        reasons: list[str] | None = None,
        **extra: Any,
    ) -> Solution:
        return Solution(
            run_id=self.recorder.run_id,
            task=self.task,
            verdict=verdict or (report.verdict if report else Verdict.FAILED),
            confidence=report.confidence if report else 0.0,
            code=selected.code if selected else None,
            explanation=selected.explanation if selected else "",
            tests=selected.tests if selected else "",
            usage=self._usage(),
            rounds=rounds,
            reasons=reasons
            if reasons is not None
            else (list(report.reasons) if report else [error or ""]),
            error=error,
            report=report,
            **extra,
        )

    def _usage_json(self) -> dict[str, Any]:
        return {k: v.model_dump() for k, v in self._usage().items()}

    def _usage(self) -> dict[str, AgentUsage]:
        fields = set(AgentUsage.model_fields)  # AgentUsage is the public subset of the totals
        return {
            agent: AgentUsage.model_validate(u.model_dump(include=fields))
            for agent, u in self.usage.by_agent().items()
        }

    def _on_call(self, record: CallRecord) -> None:
        self.recorder.emit(
            "model_call", agent=record.agent, **record.model_dump(mode="json", exclude={"agent"})
        )

    def _record_report(self, report: VerificationReport) -> None:
        for c in report.evidence.candidates:
            self.recorder.emit(
                "execution",
                agent="executor",
                candidate=c.id,
                status=c.status,
                load_error=c.load_error.model_dump() if c.load_error else None,
                trusted=f"{c.hard_passed}/{c.hard_total}",
                generated=f"{c.tests_passed}/{c.tests_total}",
                calls=c.calls,
                cluster=c.cluster,
            )
        self.recorder.emit(
            "verdict",
            agent="verifier",
            verdict=report.verdict.value,
            confidence=report.confidence,
            selected=report.selected.id if report.selected else None,
            reasons=report.reasons,
            clusters=[c.model_dump() for c in report.evidence.clusters],
            counterexamples=[c.model_dump() for c in report.evidence.counterexamples],
            notes=report.evidence.notes,
            alternatives=report.alternatives,
            duration_ms=report.duration_ms,
        )
