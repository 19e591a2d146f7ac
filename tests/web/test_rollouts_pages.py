"""The rollouts pages: live progress, gates, and the role-gated, CSRF-checked controls."""

from __future__ import annotations

import re

from tests.conftest import FakeClock
from tests.support.web import (
    PLAIN,
    PROTECTED,
    V3,
    Tokens,
    csrf_of,
    run_rollout_to_rollback,
    serve_split,
    start_rollout,
)
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


def _chart(html: str, metric: str) -> str:
    found = re.search(rf'<svg[^>]*data-metric="{metric}".*?</svg>', html, re.S)
    assert found is not None, f"no chart for {metric}"
    return found.group(0)


def test_a_finished_rollout_charts_each_gate_and_logs_every_decision(
    ui: UiClient, tokens: Tokens, registry: Registry, clock: FakeClock
) -> None:
    run_rollout_to_rollback(registry, clock.advance)
    page = ui(tokens.viewer).get(f"/ui/rollouts/{PLAIN}")
    assert page.status_code == 200
    assert page.text.count('data-testid="gate-chart"') == 2
    # 8 even cut points over 35 s, plus the end of the 10 % step at 20 s
    errors, latency = _chart(page.text, "error_rate"), _chart(page.text, "latency_mean")
    for chart in (errors, latency):
        assert 'data-points="9"' in chart
        assert '<polyline class="estimate"' in chart
        assert '<line class="tolerance"' in chart
        assert chart.count('<line class="step"') == 2  # 10 % and 50 % began
    assert '<polygon class="band"' in latency  # the mean ratio has an interval
    # an estimate from the first cut after both arms had 100 requests (10 s in): 7 of 9
    assert errors.count("<circle") == latency.count("<circle") == 7
    assert 'class="pt verdict-harm"' in errors  # the last point: the rollback's evidence
    decisions = re.findall(r'data-decision="([a-z_]+)"', page.text)
    assert decisions == ["start", "advance", "pause", "resume", "rollback"]
    pause = page.text[page.text.index('data-decision="pause"') :]
    assert "(checking a dashboard)" in pause[: pause.index('data-decision="resume"')]
    assert "(looks fine)" in page.text[page.text.index('data-decision="resume"') :]
    rollback = page.text[page.text.index('data-decision="rollback"') :]
    assert "automatic rollback" in rollback
    assert "rollout-controller" in rollback
    assert "verdict-harm" in rollback  # the evidence the decision was made on
    assert 'hx-trigger="every 15s"' not in page.text  # finished: the history stays put


def test_an_active_rollout_polls_its_history_as_its_own_fragment(
    ui: UiClient, tokens: Tokens, registry: Registry, clock: FakeClock
) -> None:
    from tests.support.web import GATED_POLICY

    from turnout.domain.access import LOCAL_ADMIN
    from turnout.domain.rollouts import RolloutPlan

    registry.rollouts.start(LOCAL_ADMIN, PLAIN, V3, plan=RolloutPlan.from_dict(GATED_POLICY))
    serve_split(registry, clock.advance, 400, 4.0, 10, 50)
    client = ui(tokens.viewer)
    page = client.get(f"/ui/rollouts/{PLAIN}")
    assert 'hx-get="/ui/rollouts/summarise?part=history"' in page.text
    assert "no estimate yet" in page.text  # 40 canary requests: too few for either gate
    part = client.get(f"/ui/rollouts/{PLAIN}?part=history", headers={"hx-request": "true"})
    assert "<html" not in part.text
    assert 'data-testid="rollout-history"' in part.text
    assert 'data-testid="rollout-live"' not in part.text
    assert 'data-points="8"' in part.text
    assert re.findall(r'data-decision="([a-z_]+)"', part.text) == ["start"]
