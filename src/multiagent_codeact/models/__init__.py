"""The model layer: OpenAI or any OpenAI-compatible server, metered, bounded and cached.

Typical use, one client per agent sharing one run's usage, budget and limiter::

    config = resolve_model("gpt-4o-mini")            # or a ModelConfig, or None: $MCODEACT_MODEL
    usage, budget = Usage(), Budget(max_cost_usd=1.0)
    limiter = Limiter(8)
    client = make_client(config, agent="coder", usage=usage, budget=budget, limiter=limiter)
    agent = AssistantAgent("coder", model_client=client, model_client_stream=True)
    ...
    usage.by_agent()["coder"].cost_usd
"""

from ..errors import BudgetExceededError, ModelCallError, ModelNotConfiguredError
from .cache import ResponseCache, cache_key
from .client import SAMPLE_ARG, MeteredChatClient, OnCall, make_client
from .config import Capabilities, ModelConfig, resolve_model, setup_help
from .limiter import Limiter
from .pricing import BUILTIN_PRICES, Price, lookup_price
from .retry import Backoff
from .usage import Budget, CallRecord, Usage, UsageTotals

__all__ = [
    "BUILTIN_PRICES",
    "SAMPLE_ARG",
    "Backoff",
    "Budget",
    "BudgetExceededError",
    "CallRecord",
    "Capabilities",
    "Limiter",
    "MeteredChatClient",
    "ModelCallError",
    "ModelConfig",
    "ModelNotConfiguredError",
    "OnCall",
    "Price",
    "ResponseCache",
    "Usage",
    "UsageTotals",
    "cache_key",
    "lookup_price",
    "make_client",
    "resolve_model",
    "setup_help",
]
