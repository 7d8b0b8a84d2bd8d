"""Token, time and money accounting for every model call.

Every backend calls `record(reply)`; `ledger()` sums per model for the process. Prices are USD per
million tokens, looked up by the longest matching model-id prefix; config `prices` overrides the
defaults. Local models cost 0 in money but report their time.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from pydantic import BaseModel

from quarry.config import Prices, load_settings
from quarry.llm.base import Reply, Usage

#: Published list prices (USD per 1M tokens) of common OpenAI models; config `prices` overrides.
DEFAULT_PRICES: dict[str, Prices] = {
    "openai:gpt-4o-mini": Prices(input_per_mtok=0.15, output_per_mtok=0.60),
    "openai:gpt-4o": Prices(input_per_mtok=2.50, output_per_mtok=10.00),
    "openai:gpt-4.1-nano": Prices(input_per_mtok=0.10, output_per_mtok=0.40),
    "openai:gpt-4.1-mini": Prices(input_per_mtok=0.40, output_per_mtok=1.60),
    "openai:gpt-4.1": Prices(input_per_mtok=2.00, output_per_mtok=8.00),
    "openai:gpt-5-nano": Prices(input_per_mtok=0.05, output_per_mtok=0.40),
    "openai:gpt-5-mini": Prices(input_per_mtok=0.25, output_per_mtok=2.00),
    "openai:gpt-5": Prices(input_per_mtok=1.25, output_per_mtok=10.00),
    "local:": Prices(),
}


class ModelTotals(BaseModel):
    """What one model spent in this process."""

    calls: int = 0
    usage: Usage = Usage()
    latency_s: float = 0.0
    cost_usd: float = 0.0


_lock = threading.Lock()
_totals: dict[str, ModelTotals] = defaultdict(ModelTotals)


def price_for(model_id: str) -> Prices:
    """The price of a model id: config `prices` first, then defaults; longest prefix wins; unknown = 0."""
    table = {**DEFAULT_PRICES, **load_settings().prices}
    matches = [key for key in table if model_id.startswith(key) or f"openai:{model_id}".startswith(key)]
    return table[max(matches, key=len)] if matches else Prices()


def cost_usd(model_id: str, usage: Usage) -> float:
    """Money spent on one call (or a sum of calls) by `model_id`."""
    price = price_for(model_id)
    return (usage.prompt_tokens * price.input_per_mtok + usage.completion_tokens * price.output_per_mtok) / 1e6


def record(reply: Reply) -> Reply:
    """Add one call to the process ledger; returns the reply for chaining."""
    with _lock:
        totals = _totals[reply.model]
        totals.calls += 1
        totals.usage = totals.usage + reply.usage
        totals.latency_s += reply.latency_s
        totals.cost_usd += cost_usd(reply.model, reply.usage)
    return reply


def ledger() -> dict[str, ModelTotals]:
    """A snapshot of what every model spent in this process so far."""
    with _lock:
        return {model: totals.model_copy(deep=True) for model, totals in _totals.items()}
