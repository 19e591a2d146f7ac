"""The ``turnout`` command line: thin Typer commands that parse, call, print."""
