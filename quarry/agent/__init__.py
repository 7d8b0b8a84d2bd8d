"""The agent at run time: tools over the fact store, the plan/act loop, prompts, citations, sessions, the chat shell."""
