"""What a coder is told when its candidate lost: the evidence against it, concretely.

Tracebacks for code that crashed, expected against actual values for trusted tests it failed
(with what its calls returned), and counterexamples (inputs on which another behaviour
disagrees with it) for code that ran but behaves like nobody else. Concrete inputs and values
are what lets a model repair code instead of rewriting it at random. The wording never claims
more than the verdict does: a pick that is not verified is "the candidate with the most
support so far", not "independent implementations".
"""

from __future__ import annotations

from ..verify.report import CandidateEvidence, Cell, VerificationReport
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
        return "- Your candidate was not verified."
    lines: list[str] = []
    if ev.load_error is not None:
        where = f" (line {ev.load_error.line})" if ev.load_error.line else ""
        lines.append(
            f"Your code could not be loaded: {ev.load_error.type}: {ev.load_error.message}{where}"
        )
    for cell in ev.failures[:MAX_ITEMS]:
        lines.append(_trusted_failure(report, cell))
    if ev.status == "ok" and ev.cluster is not None:
        other = _others(report)
        for ce in report.evidence.counterexamples:
            if ce.cluster == ev.cluster and len(lines) < MAX_ITEMS:
                lines.append(
                    f"On `{ce.call}` your code {_result(ce.rival_output)}, while {other} "
                    f"{_result(ce.selected_output)}. Check which is right by the task's "
                    "definition."
                )
    failed_designer = [
        c
        for c in report.evidence.cells
        if c.candidate == candidate_id and c.outcome != "pass" and _is_designer(report, c.test)
    ]
    for cell in failed_designer[: max(0, MAX_ITEMS - len(lines))]:
        if cell.expected is not None and cell.actual is not None:
            lines.append(
                f"A test written from the task alone, `{_code(report, cell.test, last=False)}`, "
                f"expects {cell.expected}; your code returns {cell.actual} (the test may be "
                "wrong: the task decides)."
            )
    if ev.calls.get("timeout"):
        lines.append("It took too long on some inputs: make it faster, or look for a loop that "
                     "does not end.")  # fmt: skip
    if not lines:
        lines.append("Other candidates had stronger evidence; re-check the task's edge cases.")
    return "\n".join(f"- {line}" for line in lines)


def feedback_for_reply(parsed: ParsedReply) -> str:
    """For a reply with no usable code: what was wrong with the reply itself."""
    return "\n".join(f"- Your reply could not be used: {p}" for p in parsed.problems) or (
        "- Your reply could not be used."
    )


def _trusted_failure(report: VerificationReport, cell: Cell) -> str:
    code = _code(report, cell.test, last=True)
    if cell.expected is not None and cell.actual is not None:
        return (
            f"The task's example `{code}` fails: it expects {cell.expected}, your code "
            f"returns {cell.actual}."
        )
    if cell.error is not None:
        if cell.error.type == "Timeout":
            what = "takes longer than its time limit"
        elif cell.error.type == "AssertionError" or cell.outcome == "fail":
            what = "is false"
        else:
            what = f"raises {cell.error.type}: {cell.error.message}"
        calls = f" ({'; '.join(cell.calls)})" if cell.calls else ""
        return f"The task's example `{code}` {what}{calls}."
    return f"The task's example `{code}` fails ({cell.outcome})."


def _result(shown: str) -> str:
    """'gives 5' or 'raises TypeError: ...' from an outcome as the report shows it."""
    if shown.startswith("raises "):
        return shown
    if shown in ("timeout", "skipped"):
        return "gives no answer in time"
    return f"returns {shown}"


def _others(report: VerificationReport) -> str:
    if report.verified:
        return "the independent implementations that agree and were verified"
    return "the candidate with the most support so far (not verified yet)"


def _code(report: VerificationReport, test_id: str, *, last: bool) -> str:
    test = next((t for t in report.evidence.tests if t.id == test_id), None)
    if test is None:
        return test_id
    code = test.code.strip()
    return code.splitlines()[-1] if last and code else code


def _evidence(report: VerificationReport, candidate_id: str) -> CandidateEvidence | None:
    return next((c for c in report.evidence.candidates if c.id == candidate_id), None)


def _is_designer(report: VerificationReport, test_id: str) -> bool:
    return any(
        t.id == test_id and t.source in ("designer", "adjudicator") for t in report.evidence.tests
    )
