"""The agent's tools, one module each; `registry.all_tools()` lists them."""
