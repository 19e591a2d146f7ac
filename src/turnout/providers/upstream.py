"""The HTTP plumbing every network adapter shares: one pooled aiohttp session, and
the one place where aiohttp's exceptions become :class:`~turnout.errors.ProviderError`.

aiohttp rather than httpx because this is the gateway's hot path: it costs far
less CPU per request and per streamed chunk. One :class:`Upstream` per provider
endpoint holds one session (created lazily, inside the running event loop,
because a session is bound to its loop and importing must create nothing).

Error rules, identical for every adapter so the gateway's fallback logic is too:

* upstream 4xx -> ``ProviderError(status=<upstream status>)``, not retryable,
  except 408, 409 and 429 (a fallback or a later attempt may well succeed);
* upstream 5xx (Anthropic's 529 "overloaded" included) -> retryable, status 502;
* refused, reset, disconnected, truncated body -> retryable, status 502;
* too slow -> :class:`~turnout.errors.ProviderTimeout`;
* cancellation is never caught: the response is closed, so the upstream sees the
  disconnect and stops generating, and ``CancelledError`` propagates.

The API key never reaches a message, a log or a repr: it is read from the
environment at call time, sent as a header only, and scrubbed from any upstream
error text that echoes it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping

import aiohttp
import orjson
from yarl import URL

from turnout.domain.providers import ProviderConfig
from turnout.errors import ProviderError, ProviderTimeout
from turnout.providers.sse import SSEEvent, aiter_sse

__all__ = [
    "RETRYABLE_CLIENT_STATUSES",
    "Upstream",
    "drain",
    "event_error",
    "read_api_key",
    "status_error",
]

RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 429})
"""4xx answers that say "not now" rather than "never": timeout, conflict, rate limit."""

_DRAIN_S = 0.25
"""After the protocol's last event, how long to wait for the end of the body.

A well-behaved server ends the body with its last event, so the connection goes
back to the pool at once; one that does not costs this much, then its
connection is closed instead of pooled.
"""

_MAX_MESSAGE = 300
"""Upstream error text is cut here: enough to act on, too little to flood a log."""


def read_api_key(config: ProviderConfig) -> str | None:
    """The key from ``config.api_key_env``, read per call so a rotated key takes effect.

    None when the provider needs no key (a local vLLM or Ollama). A missing
    variable is the operator's mistake, not the upstream's: not retryable, and
    the message names the variable, never a value.
    """
    if config.api_key_env is None:
        return None
    key = os.environ.get(config.api_key_env)
    if not key:
        raise ProviderError(
            f"provider '{config.name}': environment variable {config.api_key_env} "
            "is not set (it must hold the API key)",
            status=401,
            retryable=False,
        )
    return key


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _upstream_message(body: bytes) -> str:
    """The human part of an error body: OpenAI's and Anthropic's ``error.message``, or text."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace").strip()
    return _message_of(payload) or body.decode("utf-8", "replace").strip()


def _message_of(payload: object) -> str:
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(payload, Mapping) and isinstance(payload.get("message"), str):
        return str(payload["message"])
    return ""


def status_error(name: str, status: int, body: bytes, secret: str | None) -> ProviderError:
    """The error for a non-2xx answer, carrying the upstream's own (truncated) message."""
    message = _truncate(_redact(_upstream_message(body), secret))
    text = f"{name} returned HTTP {status}" + (f": {message}" if message else "")
    if 400 <= status < 500:
        return ProviderError(text, status=status, retryable=status in RETRYABLE_CLIENT_STATUSES)
    return ProviderError(text, status=502, retryable=True)


def event_error(
    name: str, payload: Mapping[str, object], secret: str | None, *, retryable: bool = True
) -> ProviderError:
    """The error for an ``error`` event inside a 200 stream (overloaded, cut by the server).

    Raised before the first chunk it still lets the gateway fall back, hence
    ``retryable`` unless the upstream said the request itself is at fault.
    """
    message = _truncate(_redact(_message_of(payload) or "unknown error", secret))
    return ProviderError(f"{name} reported an error in its stream: {message}", retryable=retryable)


def _socket_timeout(name: str, exc: TimeoutError) -> ProviderTimeout:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ProviderTimeout(f"{name} did not accept a connection in time")
    return ProviderTimeout(f"{name} stopped sending data (read timeout)")


def _transport_error(name: str, exc: BaseException, secret: str | None) -> ProviderError:
    """Translate an aiohttp exception; the caller chains it with ``raise ... from``."""
    if isinstance(exc, TimeoutError):  # before ClientError: aiohttp's timeouts are both
        return _socket_timeout(name, exc)
    detail = _redact(str(exc), secret)[:_MAX_MESSAGE] or type(exc).__name__
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ProviderError(f"{name} broke off its response: {detail}")
    if not isinstance(exc, aiohttp.ClientError):
        return ProviderError(f"{name} sent a malformed event stream: {detail}")
    return ProviderError(f"{name} connection failed ({type(exc).__name__}): {detail}")


def _deadline_error(
    name: str, exc: TimeoutError, timeout_s: float | None, what: str
) -> ProviderTimeout:
    """Our own ``timeout_s`` deadline passed, or one of aiohttp's socket timeouts inside it."""
    if timeout_s is None or isinstance(exc, aiohttp.ServerTimeoutError):
        return _socket_timeout(name, exc)
    return ProviderTimeout(f"{name} {what} within {timeout_s:g}s")


class Upstream:
    """One provider endpoint's pooled session, and the request/response discipline.

    ``connect_timeout`` bounds each TCP (and TLS) connect; ``read_timeout`` bounds
    each wait for more bytes once a response is flowing; the per-request
    ``timeout_s`` bounds the wait for an answer (see :meth:`post_json` and
    :meth:`post_events`). ``max_connections=0`` means an unlimited pool.
    """

    def __init__(
        self,
        name: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 600.0,
        max_connections: int = 0,
    ) -> None:
        self.name = name
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._connect_timeout = connect_timeout
        self._deadlines: dict[float | None, aiohttp.ClientTimeout] = {}
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _deadline(self, timeout_s: float | None) -> aiohttp.ClientTimeout:
        """aiohttp's own timeout for a whole unstreamed call: one timer, not three."""
        found = self._deadlines.get(timeout_s)
        if found is None:
            found = aiohttp.ClientTimeout(total=timeout_s, sock_connect=self._connect_timeout)
            if len(self._deadlines) < 64:
                self._deadlines[timeout_s] = found
        return found

    def _client(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                skip_auto_headers=("User-Agent",),
                auto_decompress=True,
            )
        return session

    async def aclose(self) -> None:
        """Close the pool; the next call would open a new one."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _open(
        self,
        url: URL,
        body: bytes,
        headers: Mapping[str, str],
        secret: str | None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        """POST and return a 2xx response with its body unread; raise for anything else."""
        session = self._client()
        if timeout is None:
            response = await session.post(url, data=body, headers=headers, allow_redirects=False)
        else:
            response = await session.post(
                url, data=body, headers=headers, allow_redirects=False, timeout=timeout
            )
        if response.status < 300:
            return response
        try:
            error_body = await response.read()
        finally:
            response.release()
        raise status_error(self.name, response.status, error_body, secret)

    async def post_json(
        self,
        url: URL,
        body: bytes,
        headers: Mapping[str, str],
        *,
        timeout_s: float | None,
        secret: str | None,
    ) -> dict[str, object]:
        """POST and return the decoded JSON object; ``timeout_s`` bounds the whole answer.

        A non-streamed answer's headers only leave the upstream once the text is
        generated, so "time to first byte" and "time to the answer" coincide here.
        """
        try:
            response = await self._open(url, body, headers, secret, self._deadline(timeout_s))
            try:
                raw = await response.read()
            finally:
                response.release()  # reused when fully read, closed otherwise
        except TimeoutError as exc:
            raise _deadline_error(self.name, exc, timeout_s, "did not answer") from exc
        except aiohttp.ClientError as exc:
            raise _transport_error(self.name, exc, secret) from exc
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ProviderError(f"{self.name} answered with a body that is not JSON") from exc
        if not isinstance(payload, dict):
            raise ProviderError(f"{self.name} answered with JSON that is not an object")
        return payload

    async def post_events(
        self,
        url: URL,
        body: bytes,
        headers: Mapping[str, str],
        *,
        timeout_s: float | None,
        secret: str | None,
    ) -> AsyncGenerator[SSEEvent, None]:
        """POST and yield the response's server-sent events as they arrive.

        Everything up to the first event (connect, status, headers, first event)
        happens in the first ``__anext__`` and is bounded by ``timeout_s``, so a
        failure there still lets the gateway fall back. Later reads are bounded by
        ``read_timeout``; the connection goes back to the pool only when the body
        was read to its end, and is closed on any error, early exit or cancel.
        """
        response: aiohttp.ClientResponse | None = None
        finished = False
        try:
            try:
                async with asyncio.timeout(timeout_s):
                    response = await self._open(url, body, headers, secret)
                    content_type = response.headers.get("content-type", "")
                    if not content_type.startswith("text/event-stream"):
                        raise ProviderError(
                            f"{self.name} answered a stream request with {content_type or 'no'}"
                            " content type instead of text/event-stream"
                        )
                    events = aiter_sse(response.content.iter_any())
                    first = await anext(events, None)
            except TimeoutError as exc:
                raise _deadline_error(self.name, exc, timeout_s, "sent no event") from exc
            except (aiohttp.ClientError, ValueError) as exc:  # ValueError: an endless line
                raise _transport_error(self.name, exc, secret) from exc
            if first is None:
                finished = True
                return
            yield first
            while True:
                try:
                    event = await anext(events, None)
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    raise _transport_error(self.name, exc, secret) from exc
                if event is None:
                    finished = True
                    return
                yield event
        finally:
            if response is not None:
                if finished:
                    response.release()
                else:
                    response.close()


async def drain(events: AsyncIterator[SSEEvent]) -> None:
    """Read what follows a stream's last event (normally just the end of the body), briefly.

    Reading to the end is what lets :meth:`Upstream.post_events` pool the
    connection instead of closing it: a TLS handshake saved on the next request.
    """
    try:
        async with asyncio.timeout(_DRAIN_S):
            async for _ in events:
                pass
    except (TimeoutError, ProviderError):
        pass  # the answer is complete; the connection is merely not reused
