"""Sign-in by API token, the session cookie, sign-out, CSRF on every write."""

from __future__ import annotations

from tests.support.web import PLAIN, Tokens, csrf_of, sign_in
from tests.web.conftest import UiClient

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry


def test_pages_send_a_visitor_without_a_session_to_sign_in(ui: UiClient) -> None:
    response = ui().get("/ui/aliases")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/signin?next=%2Fui%2Faliases")
    assert ui().get("/ui/").headers["location"] == "/ui/aliases"


def test_sign_in_keeps_the_token_in_a_strict_http_only_cookie(ui: UiClient, tokens: Tokens) -> None:
    client = ui()
    response = sign_in(client, tokens.viewer)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/aliases"
    cookie = next(
        v for v in response.headers.get_list("set-cookie") if v.startswith("turnout_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/ui" in cookie
    page = client.get("/ui/aliases")
    assert page.status_code == 200
    assert "token:vera" in page.text
    assert tokens.viewer not in page.text  # the secret never appears in a page


def test_a_bad_token_is_refused_with_the_services_message(ui: UiClient) -> None:
    client = ui()
    assert sign_in(client, "tnt_not-a-real-token").status_code == 401
    response = sign_in(client, "hello")
    assert response.status_code == 401
    assert "turnout tokens start with" in response.text
    assert "turnout_session" not in response.headers.get("set-cookie", "")


def test_sign_in_without_its_form_token_is_refused(ui: UiClient, tokens: Tokens) -> None:
    response = ui().post("/ui/signin", data={"token": tokens.viewer, "csrf": "forged"})
    assert response.status_code == 403
    assert "turnout_session" not in response.headers.get("set-cookie", "")


def test_sign_in_never_redirects_off_the_dashboard(ui: UiClient, tokens: Tokens) -> None:
    client = ui()
    form = client.get("/ui/signin")
    data = {"csrf": csrf_of(form.text), "token": tokens.viewer, "next": "//evil.example/ui/"}
    response = client.post("/ui/signin", data=data)
    assert response.headers["location"] == "/ui/aliases"


def test_sign_out_needs_the_csrf_token_and_ends_the_session(ui: UiClient, tokens: Tokens) -> None:
    client = ui(tokens.viewer)
    assert client.post("/ui/signout", data={}).status_code == 403
    csrf = csrf_of(client.get("/ui/aliases").text)
    response = client.post("/ui/signout", data={"csrf": csrf})
    assert response.status_code == 303
    assert client.get("/ui/aliases").status_code == 303


def test_a_revoked_token_is_signed_out_on_the_next_page(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    client = ui(tokens.viewer)
    assert client.get("/ui/aliases").status_code == 200
    registry.tokens.revoke(LOCAL_ADMIN, "vera")
    response = client.get("/ui/aliases")
    assert response.status_code == 303
    assert "was+revoked" in response.headers["location"]


def test_a_write_without_the_session_csrf_token_is_refused_and_writes_nothing(
    ui: UiClient, tokens: Tokens, registry: Registry
) -> None:
    client = ui(tokens.deployer)
    before = registry.aliases.get(PLAIN).revision
    for data in ({"to": "1", "expected_revision": str(before)}, {"csrf": "0" * 64, "to": "1"}):
        response = client.post(f"/ui/aliases/{PLAIN}/rollback", data=data)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert registry.aliases.get(PLAIN).revision == before


def test_every_response_carries_the_security_headers(ui: UiClient, tokens: Tokens) -> None:
    response = ui(tokens.viewer).get("/ui/aliases")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_htmx_is_served_from_the_package(ui: UiClient) -> None:
    response = ui().get("/ui/static/htmx.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:200]
    assert ui().get("/ui/static/turnout.css").status_code == 200
