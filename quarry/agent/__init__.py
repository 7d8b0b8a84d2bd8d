"""The agent: tools over the fact store, the plan/act loop, traces, evaluation, and the CLI (the composition root)."""
