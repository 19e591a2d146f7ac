"""Every CLI command is documented: ``turnout <path>`` appears in README.md or docs/.

A command nobody can find is a command nobody uses; this test fails the build
when a new command lands without a mention in the docs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import typer.main

from turnout.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOC_SUFFIXES = {".md", ".rst", ".txt", ".html"}


def command_paths() -> list[str]:
    """Every visible command and group, as typed after ``turnout`` (``alias set``)."""

    def walk(command: object, prefix: tuple[str, ...]) -> Iterator[str]:
        commands: dict[str, object] = getattr(command, "commands", {})
        for name, sub in sorted(commands.items()):
            if getattr(sub, "hidden", False):
                continue
            path = (*prefix, name)
            yield " ".join(path)
            yield from walk(sub, path)

    return list(walk(typer.main.get_command(app), ()))


def documentation() -> str:
    texts = []
    readme = ROOT / "README.md"
    if readme.is_file():
        texts.append(readme.read_text(encoding="utf-8"))
    docs = ROOT / "docs"
    if docs.is_dir():
        texts.extend(
            p.read_text(encoding="utf-8")
            for p in sorted(docs.rglob("*"))
            if p.is_file() and p.suffix in DOC_SUFFIXES
        )
    return "\n".join(texts)


def mentioned(path: str, text: str) -> bool:
    words = r"\s+".join(re.escape(word) for word in ("turnout", *path.split()))
    return re.search(rf"(?<![\w-]){words}(?![\w-])", text) is not None


def test_the_walk_finds_the_commands() -> None:
    paths = command_paths()
    assert len(paths) == len(set(paths))
    for expected in ("version add", "alias set", "alias rollback", "token create", "audit"):
        assert expected in paths
    assert "version" in paths  # groups are commands too


def test_mentioned_matches_whole_words() -> None:
    text = "Run `turnout alias  set prod v1`, then turnout plan -f x.yaml."
    assert mentioned("alias set", text)
    assert mentioned("plan", text)
    assert not mentioned("alias", "turnout aliases")
    assert not mentioned("alias set", "turnout alias settle")


def test_every_command_is_documented() -> None:
    text = documentation()
    missing = [path for path in command_paths() if not mentioned(path, text)]
    assert not missing, "undocumented commands (mention them in README.md or docs/): " + ", ".join(
        f"turnout {path}" for path in missing
    )


def test_the_cli_reference_is_regenerated_when_commands_change() -> None:
    """docs/cli.md is generated from the commands' help; a stale copy fails here."""
    import runpy

    generator = runpy.run_path(str(ROOT / "scripts" / "gen_cli_docs.py"), run_name="docs")
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == generator["render"](), (
        "docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py > docs/cli.md"
    )
