"""What a coder is told when its candidate lost: the evidence against it, concretely.

Tracebacks for code that crashed, expected against actual values for trusted tests it failed,
and counterexamples (inputs on which independent implementations disagree with it) for code
that ran but behaves like nobody else. Concrete inputs and values are what lets a model repair
code instead of rewriting it at random.
"""

from __future__ import annotations

from ..verify.report import CandidateEvidence, VerificationReport
from .parsing import ParsedReply

MAX_ITEMS = 5


def needs_repair(report: VerificationReport, candidate_id: str) -> bool:
    """True unless the candidate is in the selected behaviour cluster."""
    ev = _evidence(report, candidate_id)
    if ev is None or ev.status != "ok":
        return True
    selected = report.selected
    if selected is None:
        return True
    chosen = _evidence(report, selected.id)
    return chosen is None or ev.cluster != chosen.cluster


def feedback_for(report: VerificationReport, candidate_id: str) -> str:
    ev = _evidence(report, candidate_id)
    if ev is None:
        return "Your candidate was not verified."
    lines: list[str] = []
    if ev.load_error is not None:
        where = f" (line {ev.load_error.line})" if ev.load_error.line else ""
        lines.append(
            f"It could not be loaded: {ev.load_error.type}: {ev.load_error.message}{where}"
        )
    for cell in ev.failures[:MAX_ITEMS]:
        test = next((t for t in report.evidence.tests if t.id == cell.test), None)
        code = test.code.strip().splitlines()[-1] if test else cell.test
        if cell.expected is not None and cell.actual is not None:
            lines.append(
                f"The task's test `{code}` failed: expected {cell.expected}, got {cell.actual}"
            )
        elif cell.error is not None:
            lines.append(
                f"The task's test `{code}` failed: {cell.error.type}: {cell.error.message}"
            )
        else:
            lines.append(f"The task's test `{code}` failed ({cell.outcome})")
    if ev.status == "ok" and ev.cluster is not None:
        for ce in report.evidence.counterexamples:
            if ce.cluster == ev.cluster and len(lines) < MAX_ITEMS:
                lines.append(
                    f"On `{ce.call}` your code gives {ce.rival_output}, while independent "
                    f"implementations give {ce.selected_output}. Check which is right by the "
                    "task's definition."
                )
    failed_generated = [
        c
        for c in report.evidence.cells
        if c.candidate == candidate_id and c.outcome != "pass" and _is_designer(report, c.test)
    ]
    for cell in failed_generated[: max(0, MAX_ITEMS - len(lines))]:
        if cell.expected is not None and cell.actual is not None:
            test = next((t for t in report.evidence.tests if t.id == cell.test), None)
            code = test.code.strip() if test else cell.test
            lines.append(
                f"An independent test `{code}` expects {cell.expected}, your code gives "
                f"{cell.actual} (the test may be wrong; the task decides)."
            )
    if ev.calls.get("timeout"):
        lines.append(f"It timed out on {ev.calls['timeout']} inputs: make it faster or fix loops.")
    if not lines:
        lines.append("Other candidates had stronger evidence; re-check the task's edge cases.")
    return "\n".join(f"- {line}" for line in lines)


def feedback_for_reply(parsed: ParsedReply) -> str:
    """For a reply with no usable code: what was wrong with the reply itself."""
    return "\n".join(f"- Your reply could not be used: {p}" for p in parsed.problems) or (
        "- Your reply could not be used."
    )


def _evidence(report: VerificationReport, candidate_id: str) -> CandidateEvidence | None:
    return next((c for c in report.evidence.candidates if c.id == candidate_id), None)


def _is_designer(report: VerificationReport, test_id: str) -> bool:
    return any(t.id == test_id and t.source == "designer" for t in report.evidence.tests)
