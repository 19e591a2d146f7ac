"""The aliases list and detail pages, and rolling back through the dashboard."""

from __future__ import annotations

import re

from tests.support.web import PLAIN, PROTECTED, SINGLE, V1, V2, V3, Tokens, csrf_of
from tests.web.conftest import UiClient

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry


def _rollback_form(html: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    assert {"csrf", "to", "expected_revision"} <= fields.keys(), fields
    return fields


def test_the_list_shows_every_alias_with_what_it_serves(ui: UiClient, tokens: Tokens) -> None:
    page = ui(tokens.viewer).get("/ui/aliases")
    assert page.status_code == 200
    for name in (PROTECTED, PLAIN, SINGLE):
        assert f'data-alias="{name}"' in page.text
    assert "protected" in page.text
    assert V2 in page.text
    assert "fallback 1" in page.text
    assert "badge idle" in page.text  # no traffic yet: health says so


def test_the_list_is_paginated_and_filtered(ui: UiClient, tokens: Tokens) -> None:
    client = ui(tokens.viewer, page_size=2)
    first = client.get("/ui/aliases")
    assert "page 1 of 2 (3)" in first.text
    assert first.text.count("data-alias=") == 2
    second = client.get("/ui/aliases?page=2")
    assert second.text.count("data-alias=") == 1
    filtered = client.get("/ui/aliases?q=summ")
    assert filtered.text.count("data-alias=") == 1
    assert PLAIN in filtered.text
    assert client.get("/ui/aliases?page=x").status_code == 400


def test_the_live_table_is_a_fragment_for_htmx(ui: UiClient, tokens: Tokens) -> None:
    fragment = ui(tokens.viewer).get("/ui/aliases", headers={"hx-request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'data-testid="aliases"' in fragment.text
    anonymous = ui().get("/ui/aliases", headers={"hx-request": "true"})
    assert anonymous.status_code == 401
    assert anonymous.headers["hx-redirect"].startswith("/ui/signin")


def test_detail_shows_history_who_when_why_before_after(ui: UiClient, tokens: Tokens) -> None:
    page = ui(tokens.viewer).get(f"/ui/aliases/{PROTECTED}")
    assert page.status_code == 200
    assert 'data-revision="2"' in page.text
    assert 'data-revision="1"' in page.text
    assert "evals +7pts" in page.text
    assert "local-admin" in page.text
    assert f"<code>{V1} (fallbacks: {V3})</code>" in page.text  # before of revision 2


def test_a_viewer_sees_no_rollback_button(ui: UiClient, tokens: Tokens) -> None:
    page = ui(tokens.viewer).get(f"/ui/aliases/{PLAIN}")
    assert 'data-testid="rollback"' not in page.text
    assert "Roll back to" not in page.text


def test_an_operator_may_roll_back_only_unprotected_aliases(ui: UiClient, tokens: Tokens) -> None:
    client = ui(tokens.operator)
    assert 'data-testid="rollback"' in client.get(f"/ui/aliases/{PLAIN}").text
    assert 'data-testid="rollback"' not in client.get(f"/ui/aliases/{PROTECTED}").text


def test_a_viewer_forging_the_form_meets_the_domains_refusal(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    client = ui(tokens.viewer)
    csrf = csrf_of(client.get(f"/ui/aliases/{PLAIN}").text)  # the sign-out form's token
    data = {"csrf": csrf, "to": "1", "expected_revision": "2", "reason": "x"}
    response = client.post(f"/ui/aliases/{PLAIN}/rollback", data=data)
    assert response.status_code == 403
    assert "needs operator or higher" in response.text
    assert registry.aliases.get(PLAIN).revision == 2


def test_the_button_shows_the_revision_it_restores_and_rolls_back(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    client = ui(tokens.deployer)
    page = client.get(f"/ui/aliases/{PROTECTED}")
    assert 'data-testid="restores">1<' in page.text
    form = _rollback_form(page.text)
    assert form["to"] == "1"
    assert form["expected_revision"] == "2"
    refused = client.post(f"/ui/aliases/{PROTECTED}/rollback", data=form)  # no reason
    assert refused.status_code == 403
    assert "needs --reason" in refused.text
    form["reason"] = "escalations up <script>alert(1)</script>"
    done = client.post(f"/ui/aliases/{PROTECTED}/rollback", data=form)
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/aliases/{PROTECTED}?restored=3"
    alias = registry.aliases.get(PROTECTED)
    assert alias.revision == 3
    assert str(alias.target.version) == V1
    after = client.get(done.headers["location"])
    assert "rollback to 1" in after.text
    assert 'data-testid="restored"' in after.text
    assert "<script>alert(1)</script>" not in after.text  # escaped, not executed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in after.text
    history = registry.aliases.history(PROTECTED)
    assert history[-1].actor == "token:dana"


def test_a_stale_page_cannot_roll_back_over_a_newer_change(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    client = ui(tokens.operator)
    form = _rollback_form(client.get(f"/ui/aliases/{PLAIN}").text)
    registry.aliases.set(LOCAL_ADMIN, PLAIN, V3, reason="someone else")
    response = client.post(f"/ui/aliases/{PLAIN}/rollback", data=form)
    assert response.status_code == 409
    assert str(registry.aliases.get(PLAIN).target.version) == V3


def test_an_alias_with_nothing_to_restore_says_why(ui: UiClient, tokens: Tokens) -> None:
    page = ui(tokens.deployer).get(f"/ui/aliases/{SINGLE}")
    assert "no earlier revision with a different target" in page.text
    assert "Roll back to" not in page.text


def test_unknown_and_malformed_aliases_are_error_pages(ui: UiClient, tokens: Tokens) -> None:
    client = ui(tokens.viewer)
    missing = client.get("/ui/aliases/nope")
    assert missing.status_code == 404
    assert 'data-testid="error"' in missing.text
    assert client.get("/ui/aliases/Bad%20Name").status_code == 400
    assert client.get("/ui/no-such-page").status_code == 404
