"""The OpenTelemetry names a run is exported with: one pinned version of the GenAI conventions.

The GenAI semantic conventions are marked *development*: names change between releases. We
follow them as released in OpenTelemetry semantic conventions **v1.41.0**, the last release that
holds them in the main repository (v1.42.0 moved them, unchanged, to their own repository), and
say so in every export through `schema_url`, so a backend or a later reader knows which meaning
the names had. The strings are spelled out here rather than imported from
`opentelemetry-semantic-conventions`, which marks every `gen_ai.*` constant deprecated since the
move and would tie the meaning of our exports to whatever version of it is installed.

Names under `mcodeact.` are ours: what the conventions have no name for (cost, rounds, the
verifier's verdict, sandbox outcomes). This module imports nothing from OpenTelemetry.
"""

from __future__ import annotations

from typing import Final

SEMCONV_VERSION: Final = "1.41.0"
SCHEMA_URL: Final = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
SCOPE: Final = "multiagent_codeact"
"""The instrumentation scope (tracer name) of every span."""
SERVICE: Final = "mcodeact"
"""`service.name` of the exported resource unless the caller names another."""
WORKFLOW: Final = "mcodeact"
"""`gen_ai.workflow.name` of a run's root span."""
SANDBOX_TOOL: Final = "sandbox"
"""`gen_ai.tool.name` of a sandbox execution."""
PROVIDER: Final = "openai"
"""`gen_ai.provider.name`: every model is reached through the OpenAI API (OpenAI itself or a
compatible server; `server.address` tells which), the conventions' best-knowledge rule."""

# -- operations (gen_ai.operation.name) ------------------------------------------------------
OP_WORKFLOW: Final = "invoke_workflow"
OP_AGENT: Final = "invoke_agent"
OP_CHAT: Final = "chat"
OP_TOOL: Final = "execute_tool"

# -- GenAI attributes ------------------------------------------------------------------------
OPERATION: Final = "gen_ai.operation.name"
PROVIDER_NAME: Final = "gen_ai.provider.name"
WORKFLOW_NAME: Final = "gen_ai.workflow.name"
AGENT_NAME: Final = "gen_ai.agent.name"
REQUEST_MODEL: Final = "gen_ai.request.model"
REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
REQUEST_STREAM: Final = "gen_ai.request.stream"
FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
TOOL_NAME: Final = "gen_ai.tool.name"
TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
TOOL_RESULT: Final = "gen_ai.tool.call.result"
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
EXIT_CODE: Final = "process.exit.code"

# -- the evaluation event --------------------------------------------------------------------
EVALUATION_EVENT: Final = "gen_ai.evaluation.result"
EVALUATION_NAME: Final = "gen_ai.evaluation.name"
EVALUATION_SCORE: Final = "gen_ai.evaluation.score.value"
EVALUATION_LABEL: Final = "gen_ai.evaluation.score.label"
EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"
EVAL_VERIFICATION: Final = "mcodeact.verification"
"""The verifier's verdict: score = confidence (0..1), label = verified | disputed | failed."""
EVAL_JUDGE: Final = "mcodeact.judge"
"""The LLM judge: label = pass | fail, no score."""

# -- ours ------------------------------------------------------------------------------------
RUN_ID: Final = "mcodeact.run.id"
RUN_STATUS: Final = "mcodeact.run.status"
TASK_ID: Final = "mcodeact.task.id"
ENTRY_POINT: Final = "mcodeact.task.entry_point"
VERDICT: Final = "mcodeact.verdict"
CONFIDENCE: Final = "mcodeact.confidence"
ROUND: Final = "mcodeact.round.number"
RECHECK: Final = "mcodeact.round.recheck"
COST: Final = "mcodeact.cost_usd"
"""Present only when the price is known: an absent cost is unknown, never free."""
UNPRICED_CALLS: Final = "mcodeact.unpriced_calls"
TOTAL_INPUT_TOKENS: Final = "mcodeact.usage.input_tokens"
TOTAL_OUTPUT_TOKENS: Final = "mcodeact.usage.output_tokens"
MODEL_CALLS: Final = "mcodeact.model_calls"
ATTEMPTS: Final = "mcodeact.call.attempts"
CACHED: Final = "mcodeact.call.cached"
QUEUED_MS: Final = "mcodeact.call.queued_ms"
TOKENS_ESTIMATED: Final = "mcodeact.call.usage_estimated"
CANDIDATE: Final = "mcodeact.candidate.id"
EXEC_STATUS: Final = "mcodeact.execution.status"
EXEC_FINAL: Final = "mcodeact.execution.final"
TIMED_OUT: Final = "mcodeact.execution.timed_out"
DURATION_MS: Final = "mcodeact.execution.duration_ms"
TRUSTED: Final = "mcodeact.execution.trusted_tests"
GENERATED: Final = "mcodeact.execution.generated_tests"
CLUSTER: Final = "mcodeact.execution.cluster"
CALLS_PREFIX: Final = "mcodeact.execution.calls."
ARTIFACTS: Final = "mcodeact.execution.artifacts"
TIMING_ESTIMATED: Final = "mcodeact.timing.estimated"
"""True where the log records only when something ended: the start is the event before it."""
SELECTED: Final = "mcodeact.verification.selected"
CLUSTERS: Final = "mcodeact.verification.clusters"
COUNTEREXAMPLES: Final = "mcodeact.verification.counterexamples"

# -- span events of ours ---------------------------------------------------------------------
EV_CANDIDATE: Final = "mcodeact.candidate"
EV_REPAIR: Final = "mcodeact.repair"
EV_ERROR: Final = "mcodeact.error"
EV_ADJUDICATION: Final = "mcodeact.adjudication"
EV_OPTIMIZATION: Final = "mcodeact.optimization"
