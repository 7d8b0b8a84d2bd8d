"""Quarry: a mailbox and documents turned into typed facts in DuckDB, an agent over them, and a small owned model."""

__version__ = "0.1.0"
