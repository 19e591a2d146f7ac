"""The pure core of turnout: values and rules, no I/O, no clock, no randomness.

Nothing here imports a database driver, an HTTP stack, a CLI toolkit or pydantic,
and nothing reads the environment or the time: those are passed in. An
import-linter contract in ``pyproject.toml`` keeps it so.
"""
