"""The rollouts pages: live progress, gates, and the role-gated, CSRF-checked controls."""

from __future__ import annotations

from tests.support.web import PLAIN, PROTECTED, V3, Tokens, csrf_of, start_rollout
from tests.web.conftest import UiClient

from turnout.services.registry import Registry


def test_the_list_shows_recent_rollouts(ui: UiClient, tokens: Tokens, registry: Registry) -> None:
    client = ui(tokens.viewer)
    assert "no rollouts yet" in client.get("/ui/rollouts").text
    start_rollout(registry)
    page = client.get("/ui/rollouts")
    assert 'data-rollout="1"' in page.text
    assert V3 in page.text
    assert "awaiting_approval" in page.text


def test_a_viewer_sees_progress_but_no_controls(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    start_rollout(registry)
    page = ui(tokens.viewer).get(f"/ui/rollouts/{PLAIN}")
    assert page.status_code == 200
    assert 'data-status="awaiting_approval"' in page.text
    assert "error_rate" in page.text
    assert 'data-testid="rollout-actions"' not in page.text
    assert 'hx-trigger="every 2s"' in page.text  # active: the live part polls


def test_an_operator_steers_the_rollout_step_by_step(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    start_rollout(registry)
    client = ui(tokens.operator)
    page = client.get(f"/ui/rollouts/{PLAIN}")
    assert 'data-action="approve"' in page.text
    assert 'data-action="pause"' not in page.text
    for action, status in (("approve", "running"), ("pause", "paused"), ("resume", "running")):
        csrf = csrf_of(client.get(f"/ui/rollouts/{PLAIN}").text)
        response = client.post(f"/ui/rollouts/{PLAIN}/{action}", data={"csrf": csrf})
        assert response.status_code == 303
        assert registry.rollouts.latest(PLAIN).status.value == status
    live = client.get(f"/ui/rollouts/{PLAIN}", headers={"hx-request": "true"})
    assert "<html" not in live.text
    assert 'data-step="1"' in live.text
    assert "canary at 10%" in live.text
    csrf = csrf_of(client.get(f"/ui/rollouts/{PLAIN}").text)
    client.post(f"/ui/rollouts/{PLAIN}/abort", data={"csrf": csrf, "reason": "enough"})
    finished = client.get(f"/ui/rollouts/{PLAIN}", headers={"hx-request": "true"})
    assert 'data-status="aborted"' in finished.text
    assert "hx-trigger" not in finished.text  # finished: polling stops


def test_rollout_controls_need_the_csrf_token_and_the_role(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    start_rollout(registry)
    operator = ui(tokens.operator)
    assert operator.post(f"/ui/rollouts/{PLAIN}/abort", data={}).status_code == 403
    viewer = ui(tokens.viewer)
    csrf = csrf_of(viewer.get(f"/ui/rollouts/{PLAIN}").text)
    refused = viewer.post(f"/ui/rollouts/{PLAIN}/abort", data={"csrf": csrf})
    assert refused.status_code == 403
    assert registry.rollouts.latest(PLAIN).status.value == "awaiting_approval"
    own = csrf_of(operator.get(f"/ui/rollouts/{PLAIN}").text)
    assert operator.post(f"/ui/rollouts/{PLAIN}/explode", data={"csrf": own}).status_code == 404


def test_an_alias_without_a_rollout_is_a_404(ui: UiClient, tokens: Tokens) -> None:
    assert ui(tokens.viewer).get(f"/ui/rollouts/{PROTECTED}").status_code == 404
