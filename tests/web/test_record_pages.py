"""The audit, versions and deprecations pages: every role may read them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from tests.support.web import PLAIN, PROTECTED, V1, V2, V3, Tokens
from tests.web.conftest import UiClient

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry


@pytest.mark.parametrize("path", ["/ui/audit", "/ui/versions", "/ui/deprecations"])
def test_every_record_page_needs_a_session_and_any_role(
    ui: UiClient, tokens: Tokens, path: str
) -> None:
    assert ui().get(path).status_code == 303
    for secret in (tokens.viewer, tokens.deployer):
        assert ui(secret).get(path).status_code == 200


def test_audit_shows_the_chain_verified_and_filters(ui: UiClient, tokens: Tokens) -> None:
    client = ui(tokens.viewer, page_size=4)
    page = client.get("/ui/audit")
    assert 'data-state="verified"' in page.text
    assert page.text.count("data-seq=") == 4
    assert "page 1 of" in page.text
    last = client.get("/ui/audit?page=99")  # past the end: the last page
    assert 'data-seq="1"' in last.text
    by_subject = client.get(f"/ui/audit?subject={PLAIN}")
    assert by_subject.text.count("data-seq=") == 2
    tokens_only = client.get("/ui/audit?action=token.")
    assert tokens_only.text.count("data-seq=") == 3
    assert "token.create" in tokens_only.text


def test_audit_reports_a_broken_chain(
    ui: UiClient, tokens: Tokens, registry: Registry, db_url: str
) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    engine.dispose()
    page = ui(tokens.viewer).get("/ui/audit")
    assert 'data-state="broken"' in page.text
    assert "Chain broken at entry 2" in page.text


def test_versions_show_their_record(ui: UiClient, tokens: Tokens, registry: Registry) -> None:
    registry.versions.add_known_issue(LOCAL_ADMIN, V2, "drops JSON fields over 4k tokens")
    page = ui(tokens.viewer).get("/ui/versions")
    assert page.status_code == 200
    for version in (V1, V2, V3):
        assert f'data-version="{version}"' in page.text
    assert "support-v12" in page.text
    assert "tickets-2025-09" in page.text
    assert "drops JSON fields over 4k tokens" in page.text
    assert f"{PROTECTED} (primary)" in page.text


def test_deprecations_draw_a_timeline_coloured_by_urgency(ui: UiClient, tokens: Tokens) -> None:
    page = ui(tokens.viewer).get("/ui/deprecations")
    assert 'data-testid="timeline"' in page.text
    assert '<g class="bar critical">' in page.text  # V1 retires in 20 days
    assert '<g class="bar notice">' in page.text  # V3 in 200
    narrow = ui(tokens.viewer).get("/ui/deprecations?within=10")
    assert 'data-testid="no-deprecations"' in narrow.text
    assert ui(tokens.viewer).get("/ui/deprecations?within=-1").status_code == 400
