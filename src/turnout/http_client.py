"""The SDK over HTTP: the :class:`~turnout.client.TurnoutClient` interface on the admin API.

It returns the same domain values as the local client (decoded with
``turnout.serialize``, the encoder the server uses) and raises the same
exceptions: the server's error body carries :attr:`TurnoutError.code`, which is
turned back into its class here, with the server's message. Network failures
become :class:`StoreUnavailable` naming the server, never the token.

``resolve`` never waits on the network after the first call: it reads an
in-memory routing snapshot that a background thread keeps fresh by polling the
cheap ``/snapshot/marker`` and refetching ``/snapshot`` only when it moves. If
the server becomes unreachable, the last good snapshot keeps serving
(fail-static) and :attr:`HttpClient.degraded` says why.

The client is the admin operations and the transport under them; the snapshot
follower (:mod:`turnout.http_snapshot`) and the decoding of error responses
(:mod:`turnout.http_errors`) are modules of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from turnout import __version__
from turnout.domain.access import ApiToken, Role
from turnout.domain.aliases import Alias, AliasRevision
from turnout.domain.audit import AuditEntry, ChainBreak
from turnout.domain.deprecations import Finding
from turnout.domain.promotion import PromotionPolicy
from turnout.domain.rollouts import Rollout
from turnout.domain.versions import ParamValue, Version
from turnout.errors import AuthenticationFailed, StoreUnavailable
from turnout.http_errors import error_from_response
from turnout.http_snapshot import HttpSnapshotFollower
from turnout.serialize import (
    alias_from_json,
    audit_from_json,
    revision_from_json,
    rollout_from_json,
    rollout_report_from_json,
    token_from_json,
    version_from_json,
)
from turnout.services.aliases import AliasChange
from turnout.services.rollouts import RolloutReport
from turnout.services.snapshot import Resolution
from turnout.services.tokens import IssuedToken

__all__ = ["DEFAULT_POLL_INTERVAL", "HttpClient", "error_from_response"]

DEFAULT_POLL_INTERVAL = 0.5
"""Seconds between marker polls: a flip reaches ``resolve`` within about this long."""

_API_ROOT = "/api/v1"


def _api_root(base_url: str) -> str:
    """``http://host:8600`` or ``http://host:8600/api/v1``, either way the API root."""
    root = base_url.rstrip("/")
    return root if root.endswith(_API_ROOT) else root + _API_ROOT


def _segment(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)


def _change(data: Mapping[str, Any]) -> AliasChange:
    return AliasChange(revision_from_json(data["revision"]), bool(data["changed"]))


class HttpClient:
    """Every registry operation over the admin API, as the holder of ``token``."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.base_url = _api_root(base_url)
        self._has_token = bool(token)
        headers = {"Accept": "application/json", "User-Agent": f"turnout-sdk/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self._timeout = timeout
        self._routing = HttpSnapshotFollower(
            self._call, poll_interval, join_timeout=max(5.0, timeout)
        )

    @property
    def degraded(self) -> str | None:
        """Why the snapshot may be stale (the last poll failed), or None when fresh."""
        return self._routing.degraded

    def __repr__(self) -> str:
        return f"HttpClient({self.base_url!r})"  # never the token

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """One request; the decoded JSON on success, the turnout exception otherwise."""
        if not self._has_token:
            raise AuthenticationFailed(
                f"no API token for {self.base_url}: pass token=... or set TURNOUT_TOKEN "
                "(create one with 'turnout token create --name NAME --role ROLE')"
            )
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.TimeoutException as exc:
            raise StoreUnavailable(
                f"turnout server {self.base_url} did not answer within {self._timeout:g}s"
            ) from exc
        except httpx.HTTPError as exc:
            raise StoreUnavailable(
                f"cannot reach the turnout server at {self.base_url}: {exc}"
            ) from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            return response.json()
        except ValueError as exc:
            raise StoreUnavailable(
                f"{self.base_url} did not answer with JSON; is it a turnout server?"
            ) from exc

    # -- versions ------------------------------------------------------------

    def add_version(
        self,
        version_id: str,
        params: Mapping[str, ParamValue] | None = None,
        prompt_version: str | None = None,
        dataset_version: str | None = None,
        allow_floating: bool = False,
    ) -> Version:
        body = {
            "id": version_id,
            "params": dict(params or {}),
            "prompt_version": prompt_version,
            "dataset_version": dataset_version,
            "allow_floating": allow_floating,
        }
        return version_from_json(self._call("POST", "/versions", body))

    def list_versions(self) -> list[Version]:
        return [version_from_json(item) for item in self._call("GET", "/versions")["data"]]

    def get_version(self, version_id: str) -> Version:
        return version_from_json(self._call("GET", f"/versions/{_segment(version_id, '/')}"))

    def add_known_issue(self, version_id: str, text: str) -> Version:
        path = f"/versions/{_segment(version_id, '/')}/known-issues"
        return version_from_json(self._call("POST", path, {"text": text}))

    # -- aliases -------------------------------------------------------------

    def set_alias(
        self,
        name: str,
        version: str,
        fallbacks: list[str] | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
        allow_floating: bool = False,
        protected: bool | None = None,
    ) -> AliasChange:
        body = {
            "version": version,
            "fallbacks": fallbacks,
            "reason": reason,
            "expected_revision": expected_revision,
            "allow_floating": allow_floating,
            "protected": protected,
        }
        return _change(self._call("PUT", f"/aliases/{_segment(name)}", body))

    def rollback_alias(
        self,
        name: str,
        to: int | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
    ) -> AliasChange:
        body = {"to": to, "reason": reason, "expected_revision": expected_revision}
        return _change(self._call("POST", f"/aliases/{_segment(name)}/rollback", body))

    def protect_alias(self, name: str, protected: bool, reason: str | None = None) -> AliasChange:
        body = {"protected": protected, "reason": reason}
        return _change(self._call("POST", f"/aliases/{_segment(name)}/protect", body))

    def set_promotion(
        self, name: str, policy: PromotionPolicy | None, reason: str | None = None
    ) -> AliasChange:
        body = {"policy": policy.to_dict() if policy else None, "reason": reason}
        return _change(self._call("PUT", f"/aliases/{_segment(name)}/promotion", body))

    def list_aliases(self) -> list[Alias]:
        return [alias_from_json(item) for item in self._call("GET", "/aliases")["data"]]

    def get_alias(self, name: str) -> Alias:
        return alias_from_json(self._call("GET", f"/aliases/{_segment(name)}"))

    def alias_history(self, name: str) -> list[AliasRevision]:
        data = self._call("GET", f"/aliases/{_segment(name)}/history")["data"]
        return [revision_from_json(item) for item in data]

    def resolve_at(self, name: str, at: datetime | None = None) -> AliasRevision:
        params = {"at": at.isoformat()} if at is not None else None
        return revision_from_json(
            self._call("GET", f"/aliases/{_segment(name)}/resolve", params=params)
        )

    # -- rollouts ------------------------------------------------------------

    def start_rollout(
        self,
        alias: str,
        to: str,
        steps: Sequence[float] | None = None,
        policy: Mapping[str, object] | None = None,
        reason: str | None = None,
    ) -> Rollout:
        body = {
            "to": to,
            "steps": list(steps) if steps is not None else None,
            "policy": dict(policy) if policy is not None else None,
            "reason": reason,
        }
        return rollout_from_json(self._call("POST", f"/aliases/{_segment(alias)}/rollout", body))

    def rollout_status(self, alias: str) -> RolloutReport:
        return rollout_report_from_json(self._call("GET", f"/aliases/{_segment(alias)}/rollout"))

    def rollout_action(self, alias: str, action: str, reason: str | None = None) -> Rollout:
        """``pause``, ``resume``, ``approve`` or ``abort`` the alias's rollout."""
        path = f"/aliases/{_segment(alias)}/rollout/{_segment(action)}"
        return rollout_from_json(self._call("POST", path, {"reason": reason}))

    # -- shadow ---------------------------------------------------------------

    def start_shadow(
        self,
        alias: str,
        candidate: str,
        sample: float = 0.1,
        max_rps: float | None = None,
        max_cost_per_day: float | None = None,
        reason: str | None = None,
    ) -> AliasChange:
        body = {
            "candidate": candidate,
            "sample": sample,
            "max_rps": max_rps,
            "max_cost_per_day": max_cost_per_day,
            "reason": reason,
        }
        return _change(self._call("POST", f"/aliases/{_segment(alias)}/shadows", body))

    def stop_shadow(
        self, alias: str, candidate: str | None = None, reason: str | None = None
    ) -> AliasChange:
        body = {"candidate": candidate, "reason": reason}
        return _change(self._call("POST", f"/aliases/{_segment(alias)}/shadows/stop", body))

    def shadow_status(self, alias: str, window_hours: float = 24.0) -> dict[str, object]:
        params = {"window_hours": str(window_hours)}
        return dict(self._call("GET", f"/aliases/{_segment(alias)}/shadows", params=params))

    def list_rollouts(self, alias: str | None = None) -> list[Rollout]:
        params = {"alias": alias} if alias is not None else None
        data = self._call("GET", "/rollouts", params=params)["data"]
        return [rollout_from_json(item) for item in data]

    # -- in-memory resolution ------------------------------------------------

    def resolve(self, alias: str, key: str | None = None) -> Resolution:
        """In-memory resolution (microseconds); the first call fetches the snapshot.

        During a rollout ``key`` picks the arm exactly as the gateway and the
        local client do (same salt, same buckets); without one each call draws
        an arm at random. See :meth:`turnout.client.LocalClient.resolve`.
        """
        return self._routing.resolve(alias, key)

    def refresh(self) -> bool:
        """Refetch the snapshot if the registry changed; return whether it was swapped."""
        return self._routing.refresh()

    # -- tokens and audit ----------------------------------------------------

    def create_token(
        self, name: str, role: Role, expires_in: timedelta | None = None
    ) -> IssuedToken:
        days = expires_in / timedelta(days=1) if expires_in is not None else None
        body = {"name": name, "role": role.value, "expires_in_days": days}
        data = self._call("POST", "/tokens", body)
        return IssuedToken(token_from_json(data["token"]), str(data["secret"]))

    def list_tokens(self) -> list[ApiToken]:
        return [token_from_json(item) for item in self._call("GET", "/tokens")["data"]]

    def revoke_token(self, name_or_id: str) -> ApiToken:
        return token_from_json(self._call("DELETE", f"/tokens/{_segment(name_or_id)}"))

    def audit_entries(self, limit: int | None = 50, subject: str | None = None) -> list[AuditEntry]:
        params: dict[str, str | int] = {"limit": limit or 0}
        if subject is not None:
            params["subject"] = subject
        data = self._call("GET", "/audit", params=params)["data"]
        return [audit_from_json(item) for item in data]

    def deprecations(self, within_days: int = 90) -> list[Finding]:
        data = self._call("GET", "/deprecations", params={"within_days": within_days})
        return [Finding.from_dict(item) for item in data["data"]]

    def verify_audit(self) -> tuple[int, ChainBreak | None]:
        data = self._call("GET", "/audit/verify")
        seq = data.get("first_bad_seq")
        brk = None if data["ok"] else ChainBreak(int(seq or 0), str(data.get("reason") or ""))
        return int(data["entries"]), brk

    # -- config as code ------------------------------------------------------

    def plan_config(self, text: str, file: str, reason: str | None = None) -> dict[str, Any]:
        """What applying config ``text`` would change (the server parses it; errors name
        ``file``): ``changes``, ``unmanaged_aliases``, ``summary`` and ``warnings``."""
        body = {"config": text, "file": file, "reason": reason}
        return dict(self._call("POST", "/config/plan", body))

    def apply_config(self, text: str, file: str, reason: str | None = None) -> dict[str, Any]:
        """Make the registry match config ``text``, all or nothing; what changed."""
        body = {"config": text, "file": file, "reason": reason}
        return dict(self._call("POST", "/config/apply", body))

    def close(self) -> None:
        """Stop following the registry and release the connection pool; idempotent."""
        self._routing.close()
        self._http.close()
