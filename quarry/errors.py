"""The one error hierarchy of Quarry.

The library raises these and never prints or exits; the CLI edge turns any `QuarryError`
into one line on stderr and exit code 1. Anything else escaping is a bug and keeps its traceback.
"""


class QuarryError(Exception):
    """Base of every error a user can act on."""


class ConfigError(QuarryError):
    """Bad or missing configuration (config.toml, environment, flags)."""


class StoreError(QuarryError):
    """The DuckDB store cannot be opened, migrated or written."""


class InputError(QuarryError):
    """A path or file given by the user cannot be read (missing, unsupported type)."""


class ParseError(QuarryError):
    """One message or document cannot be parsed; ingestion quarantines it and goes on."""


class GuardError(QuarryError):
    """A SQL query was refused by the guard; the message says how to fix it."""


class ModelError(QuarryError):
    """A model cannot be found, loaded, verified or reached."""


class ContextFull(ModelError):
    """The conversation no longer fits the model's context window."""


class ProviderRefused(ModelError):
    """A provider refused, timed out or rate-limited: a fallback chain moves on to the next one."""


class ToolError(QuarryError):
    """A tool call failed in a way the model can repair; the message goes back to the model."""


class TrainingError(QuarryError):
    """Training, export or adapter registry failure."""
