"""The audit, versions and deprecations pages: every role may read them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from tests.support.evals import store_eval_run
from tests.support.web import PLAIN, PROTECTED, SINGLE, V1, V2, V3, Tokens, start_rollout
from tests.web.conftest import UiClient

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry


@pytest.mark.parametrize(
    "path", ["/ui/audit", "/ui/versions", f"/ui/versions/{V1}", "/ui/deprecations"]
)
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


def test_a_version_page_shows_its_lineage_servers_and_eval_runs(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    store_eval_run(registry, V2, 0.8, suite_hash="0123456789abcdef0123", suite="tickets")
    store_eval_run(registry, V1, 0.3, suite="other-version")
    client = ui(tokens.viewer)
    listing = client.get("/ui/versions")
    assert f'href="/ui/versions/{V2}"' in listing.text
    page = client.get(f"/ui/versions/{V2}")
    assert page.status_code == 200
    lineage = page.text[page.text.index('data-testid="lineage"') :]
    assert lineage.index('data-kind="model"') < lineage.index('data-kind="dataset"')
    assert "sim / chat-2025-06-01" in lineage
    assert "tickets-2025-09" in lineage
    assert 'data-kind="prompt"' not in lineage  # V2 records a dataset version only
    assert f'<li data-alias="{PROTECTED}">' in page.text
    assert f'<li data-alias="{PLAIN}">' not in page.text  # summarise moved on to V1
    runs = page.text[page.text.index('data-testid="eval-runs"') :]
    assert runs.count("data-run=") == 1  # V1's run is V1's
    assert "tickets" in runs
    assert "0123456789ab" in runs
    assert "0123456789abc" not in runs  # the hash's prefix only
    assert "0.800" in runs
    assert "100.0%" in runs  # pass rate: one case, passed


def test_a_version_page_names_every_role_and_unknown_versions_are_404(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    registry.aliases.set(LOCAL_ADMIN, SINGLE, V3, [V1])
    start_rollout(registry)  # V3 on summarise, awaiting approval: no canary share yet
    registry.rollouts.approve(LOCAL_ADMIN, PLAIN)
    client = ui(tokens.viewer)
    v3 = client.get(f"/ui/versions/{V3}").text
    assert 'data-run="' not in v3
    assert "no eval runs" in v3
    assert "canary 10%" in v3
    assert "fallback 1" in v3  # prod-chat's
    assert "primary" in v3  # extract's
    assert "No prompt or dataset version recorded" in v3
    v1 = client.get(f"/ui/versions/{V1}").text
    assert 'data-kind="prompt"' in v1
    assert f"/ui/aliases/{SINGLE}" in v1  # its fallback now
    assert client.get("/ui/versions/sim/nope-2020-01-01").status_code == 404
    assert client.get("/ui/versions/not-a-version").status_code == 400
