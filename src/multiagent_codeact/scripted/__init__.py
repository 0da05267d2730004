"""A scripted model behind a real OpenAI-compatible HTTP server, for tests and benchmarks.

No live model is reachable from our machines. `ScriptedModelServer` serves a `Script` on loopback
so the real `openai` client and AgentChat agents run end to end: each agent marks its system
message with `[role: NAME]`, and the script answers each role as a model would (right or wrong
code, malformed replies, slow replies, 429s and 500s).

    script = Script([Rule(role="coder", replies=[Reply(content="...")])])
    with ScriptedModelServer(script) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test")

Errors:

    MCAError
    └── ScriptedError
        ├── ScriptFileError       a script file is missing or malformed (ValueError)
        ├── NoRuleMatchedError    nothing in the script answers a request (LookupError);
        │                         the server turns it into a 500 that says so
        └── ServerStateError      base_url before start(), start() twice or after close()
                                  (RuntimeError)
"""

from .script import (
    ChatRequest,
    NoRuleMatchedError,
    Reply,
    Rule,
    Script,
    ScriptedError,
    ScriptFileError,
    count_tokens,
)
from .server import ScriptedModelServer, ServerStateError

__all__ = [
    "ChatRequest",
    "NoRuleMatchedError",
    "Reply",
    "Rule",
    "Script",
    "ScriptFileError",
    "ScriptedError",
    "ScriptedModelServer",
    "ServerStateError",
    "count_tokens",
]
