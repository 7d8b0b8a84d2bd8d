"""Checks a developer runs on the code base itself (the layer graph of imports)."""
