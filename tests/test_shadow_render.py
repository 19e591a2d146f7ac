"""Rendering the shadow report: Rich tables and the standalone HTML page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from turnout.domain.completions import Completion
from turnout.domain.shadow import ShadowPair
from turnout.domain.shadow_report import ReportWindow, ScoredPair, ShadowReport, summarise
from turnout.shadow_html import format_number, format_share
from turnout.shadow_render import render_report_html, render_report_rich

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
EVIL = '<script>alert("x")</script> [bold]not markup[/] & done'


def make_report() -> ShadowReport:
    rows: list[ScoredPair] = []
    for i in range(12):
        failed = i == 11
        pair = ShadowPair(
            request_id=f"r{i}",
            at=START + timedelta(minutes=i),
            alias="prod-chat",
            messages=[{"role": "user", "content": "<b>question</b>" if i == 0 else f"q{i}"}],
            primary=Completion("sim/chat-001", f"answer {i}", 100.0 + i, 20.0, 5, 10, 0.001),
            candidate=Completion(
                "sim/chat-002",
                "" if failed else (EVIL if i == 0 else f"answer {i}!"),
                120.0 + 3 * i,
                25.0,
                5,
                11,
                0.0008,
                "timeout" if failed else None,
            ),
        )
        scores = {
            "exact": None if failed else float(i % 3 != 0),
            "token_set": None if failed else (0.1 if i == 0 else 0.9),
            "latency_ms": None if failed else 20.0 + 2 * i,
            "length_ratio": None if failed else 1.1,
        }
        rows.append((pair, scores))
    return summarise("prod-chat", "sim/chat-002", rows, ReportWindow(START, None))


def test_html_escapes_model_output_and_prompts() -> None:
    page = render_report_html(make_report())
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;question&lt;/b&gt;" in page
    assert "&amp; done" in page


def test_html_is_standalone() -> None:
    page = render_report_html(make_report())
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", page)
    assert not re.search(r"""(src|href)\s*=""", page)
    assert "<link" not in page
    assert "@import" not in page
    assert page.count("<svg") >= 3  # agreement bars, latency quantiles, a delta histogram
    assert "<style>" in page


def test_html_shows_the_numbers() -> None:
    page = render_report_html(make_report())
    assert "prod-chat" in page
    assert "sim/chat-002" in page
    assert "exact" in page
    assert "token_set" in page
    assert "error: timeout" not in page  # the failed pair is not among the worst by token_set
    assert "1/12" in page  # candidate errors
    assert "+30.0 ms" in page  # the mean latency delta: 20..40 ms in steps of 2


def test_html_of_an_empty_report() -> None:
    page = render_report_html(summarise("prod-chat", "sim/chat-002", [], ReportWindow()))
    assert "No agreement scores." in page
    assert "No latency data." in page


def test_rich_rendering_prints_untrusted_text_literally() -> None:
    console = Console(record=True, width=160, color_system=None)
    console.print(render_report_rich(make_report()))
    text = console.export_text()
    assert "shadow report: prod-chat" in text
    assert "[bold]not markup[/]" in text
    assert "worst disagreements (lowest token_set)" in text
    assert "error rates" in text
    for name in ("exact", "token_set", "latency_ms", "length_ratio"):
        assert name in text


@pytest.mark.parametrize(
    ("value", "unit", "signed", "shown"),
    [
        (None, "ms", False, "-"),
        (12.345, "ms", False, "12.3 ms"),
        (1234.5, "ms", True, "+1234 ms"),
        (-5.0, "ms", True, "-5.0 ms"),
        (0.0, "ms", True, "±0.0 ms"),
        (0.00123, "USD", False, "$0.00123"),
        (-0.0005, "USD", True, "-$0.0005"),
        (1.25, "x", False, "1.25x"),
        (2.0, "tokens", True, "+2.0 tokens"),
        (0.05, "rate", True, "+5.0 pp"),
        (0.5, "", False, "0.5"),
    ],
)
def test_format_number(value: float | None, unit: str, signed: bool, shown: str) -> None:
    assert format_number(value, unit, signed=signed) == shown


def test_format_share() -> None:
    assert format_share(0.8766) == "87.7%"
    assert format_share(None) == "-"
