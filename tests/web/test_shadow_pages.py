"""The shadow pages: which aliases are shadowed, and the report as a page."""

from __future__ import annotations

from tests.support.web import PROTECTED, V3, Tokens, shadow_pairs
from tests.web.conftest import UiClient

from turnout.services.registry import Registry


def test_the_index_lists_shadowed_aliases_with_their_pairs(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    client = ui(tokens.viewer)
    assert "no alias is shadowed now" in client.get("/ui/shadow").text
    shadow_pairs(registry)
    page = client.get("/ui/shadow")
    assert f'data-alias="{PROTECTED}"' in page.text
    assert f"{V3} at 50%" in page.text
    assert "12 pairs" in page.text
    opened = client.get(f"/ui/shadow?alias={PROTECTED}")
    assert opened.headers["location"] == f"/ui/shadow/{PROTECTED}"


def test_the_report_is_the_clis_page_with_no_script_allowed(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    shadow_pairs(registry)
    client = ui(tokens.viewer)
    report = client.get(f"/ui/shadow/{PROTECTED}")
    assert report.status_code == 200
    assert f"shadow report: {PROTECTED} - candidate {V3}" in report.text
    assert "12 pairs" in report.text
    assert "<b>wrong</b>" not in report.text  # the answers are escaped
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert 'href="/ui/shadow"' in report.text


def test_a_report_without_pairs_or_session(ui: UiClient, tokens: Tokens) -> None:
    assert ui().get(f"/ui/shadow/{PROTECTED}").status_code == 303
    missing = ui(tokens.viewer).get(f"/ui/shadow/{PROTECTED}")
    assert missing.status_code == 404
    assert "no shadow pairs yet" in missing.text
