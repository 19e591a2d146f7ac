"""The later chapters of ``turnout demo``: evidence before promotion, and trouble.

``tell_evidence`` shadows two candidates on live traffic, runs the eval suite
shipped in ``examples/`` and promotes only with the evidence in place;
``tell_trouble`` shows a retirement date coming up, a floating id caught by the
linter, and an outage routed around through a real gateway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from rich.console import Console

__all__ = ["Story", "tell_evidence", "tell_trouble"]


class Story(Protocol):
    """What a chapter needs of the demo's narrator (``turnout.cli.demo._Story``)."""

    db_url: str
    console: Console

    def chapter(self, title: str, text: str) -> None: ...

    def run(self, line: str, expect: int = 0) -> int: ...

    def shadow_traffic(self, seconds: float) -> None: ...

    def outage(self) -> None: ...


def tell_evidence(story: Story) -> None:
    """Shadow two candidates, run the shipped eval suite, and promote only with evidence."""
    story.chapter(
        "10. Shadow candidates on live traffic",
        "Two candidates get a copy of every prod-chat request after the user is answered; "
        "their answers are stored beside the served ones, never shown to users.",
    )
    story.run(
        "version add sim/chat-2025-11-01 --param latency_ms=25 --param quality=0.5 "
        "--prompt-version support-v14"
    )
    story.run(
        "version add sim/chat-2025-12-01 --param latency_ms=12 --param quality=1.0 "
        "--prompt-version support-v14"
    )
    for candidate in ("sim/chat-2025-11-01", "sim/chat-2025-12-01"):
        story.run(
            f"shadow start prod-chat --candidate {candidate} --sample 1 "
            "--reason 'compare on live traffic'"
        )
    story.shadow_traffic(seconds=3.0)
    story.run("shadow status prod-chat")
    story.run(
        "shadow report prod-chat --candidate sim/chat-2025-11-01 "
        "--comparators exact,normalised,token_set,latency_ms,tokens_out,error --worst 3"
    )

    suite = _example_suite()
    story.chapter(
        "11. Eval suite",
        f"A reviewed suite shipped in examples/ ({suite.name}), run against each version; "
        "every run is stored with the suite's content hash.",
    )
    for version in ("sim/chat-2025-09-01", "sim/chat-2025-11-01", "sim/chat-2025-12-01"):
        story.run(f"eval run {suite} --version {version}")
    story.run("eval compare 1 2")

    story.chapter(
        "12. Promotion needs evidence",
        "prod-chat now requires a passing eval run no worse than the current version, and "
        "shadow pairs, before it serves a new version. A refusal names what is missing.",
    )
    story.run(
        "alias policy prod-chat --suite arithmetic --max-regression 0.02 "
        "--min-shadow-pairs 50 --reason 'evidence before promotion'"
    )
    story.run("alias set prod-chat sim/chat-2025-11-01 --reason 'cheaper model'", expect=2)
    story.run("alias set prod-chat sim/chat-2025-12-01 --reason 'faster, evals equal'")
    story.run("shadow stop prod-chat --reason 'comparison done'")
    story.run("alias history prod-chat")


def _example_suite() -> Path:
    """``examples/evals/arithmetic.yaml`` of the source checkout the demo runs from."""
    found = Path(__file__).resolve().parents[3] / "examples" / "evals" / "arithmetic.yaml"
    if not found.is_file():
        raise RuntimeError(f"{found} is missing: run the demo from a source checkout (make demo)")
    return found


def tell_trouble(story: Story) -> None:
    """A retirement date coming up, a floating id in application code, an outage."""
    story.chapter(
        "13. Deprecations",
        "The catalog knows providers' shut-off dates; anything an alias uses that retires "
        "soon is listed with days left and the replacement (--fail exits 1, for CI).",
    )
    story.run("version add openai/gpt-4o-2024-11-20")
    story.run("alias set legacy-summarizer openai/gpt-4o-2024-11-20")
    story.run("deprecations --within 90")
    story.run("deprecations --within 90 --fail", expect=1)

    story.chapter(
        "14. Lint",
        "Model ids in application code and config, checked before they ship: floating ids "
        "and soon-retired ones, with a pinned id to use instead.",
    )
    folder = Path(story.db_url.removeprefix("sqlite:///")).parent
    app = folder / "support_bot.py"
    app.write_text(
        "from openai import OpenAI\n\n"
        "client = OpenAI()\n"
        "reply = client.chat.completions.create(\n"
        '    model="gpt-4o",\n'
        '    messages=[{"role": "user", "content": "hello"}],\n'
        ")\n",
        encoding="utf-8",
    )
    story.console.print(f"[dim]{app.name}:[/dim]")
    story.console.print(app.read_text(encoding="utf-8").rstrip(), highlight=False)
    story.run(f"lint {app}", expect=1)

    story.chapter(
        "15. An outage, routed around",
        "prod-chat gets a fallback; then its primary fails every request. Each gateway's "
        "breaker opens, traffic moves to the fallback, and comes back on recovery.",
    )
    story.run(
        "alias set prod-chat sim/chat-2025-12-01 --fallback sim/chat-2025-09-01 "
        "--reason 'a fallback for outages'"
    )
    story.outage()
    story.run("health --window-minutes 5")
