"""Provider endpoints: which adapter kind serves a provider, where, with which key.

Secrets are never stored: a provider names the *environment variable* that holds
its API key, and only the process that calls the provider reads it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from turnout.errors import InvalidInput

__all__ = ["BUILTIN_PROVIDERS", "ApiKeyAuth", "ProviderConfig", "ProviderKind"]

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


class ProviderKind(enum.StrEnum):
    """The adapter that speaks a provider's wire protocol."""

    OPENAI = "openai"  # OpenAI and every OpenAI-compatible server (Azure, vLLM, Ollama...)
    ANTHROPIC = "anthropic"
    SIM = "sim"

    @classmethod
    def parse(cls, text: str) -> ProviderKind:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = "|".join(kind.value for kind in cls)
            raise InvalidInput(f"provider kind {text!r} must be one of {names}") from None


class ApiKeyAuth(enum.StrEnum):
    """How an OpenAI-compatible endpoint wants its key.

    ``bearer`` (``Authorization: Bearer KEY``) is OpenAI's and almost everyone
    else's, including Azure OpenAI's v1 API; ``api-key`` (an ``api-key: KEY``
    header) is Azure OpenAI's classic deployments API.
    """

    BEARER = "bearer"
    API_KEY = "api-key"

    @classmethod
    def parse(cls, text: str) -> ApiKeyAuth:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = "|".join(auth.value for auth in cls)
            raise InvalidInput(f"auth {text!r} must be one of {names}") from None


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """A named provider: ``name`` is the prefix of version ids (``openai/...``).

    ``auth`` and ``api_version`` exist for Azure OpenAI's classic deployments API
    (``api-key`` header, ``?api-version=`` on every call) and apply to the
    ``openai`` kind only; ``None`` means the kind's default.
    """

    name: str
    kind: ProviderKind
    base_url: str | None = None
    api_key_env: str | None = None
    auth: ApiKeyAuth | None = None
    api_version: str | None = None

    def __post_init__(self) -> None:
        openai_only = [
            field
            for field, value in (("auth", self.auth), ("api_version", self.api_version))
            if value is not None
        ]
        if openai_only and self.kind is not ProviderKind.OPENAI:
            raise InvalidInput(
                f"provider '{self.name}': {' and '.join(openai_only)} apply to kind openai "
                f"(Azure OpenAI), not to kind {self.kind}"
            )
        if self.api_version is not None and not _API_VERSION.fullmatch(self.api_version):
            raise InvalidInput(
                f"provider '{self.name}': api_version {self.api_version!r} must look like "
                "2024-10-21 or 2025-04-01-preview"
            )
        if self.api_key_env is not None and not _ENV_NAME.fullmatch(self.api_key_env):
            raise InvalidInput(
                f"provider '{self.name}': api_key_env {self.api_key_env!r} must be an "
                "environment variable name such as OPENAI_API_KEY (the key itself is never stored)"
            )
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"provider '{self.name}': base_url {self.base_url!r} must start with http:// or https://"
            )
        if self.kind is not ProviderKind.SIM and self.base_url is None:
            raise InvalidInput(f"provider '{self.name}' of kind {self.kind} needs a base_url")

    def as_dict(self) -> dict[str, str | None]:
        """Everything but the name, as JSON (audit details, the snapshot file).

        ``auth`` and ``api_version`` appear only when set, so entries written before
        they existed read the same.
        """
        out: dict[str, str | None] = {
            "kind": self.kind.value,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
        }
        if self.auth is not None:
            out["auth"] = self.auth.value
        if self.api_version is not None:
            out["api_version"] = self.api_version
        return out


BUILTIN_PROVIDERS: Mapping[str, ProviderConfig] = {
    config.name: config
    for config in (
        ProviderConfig(
            "openai", ProviderKind.OPENAI, "https://api.openai.com/v1", "OPENAI_API_KEY"
        ),
        ProviderConfig(
            "anthropic", ProviderKind.ANTHROPIC, "https://api.anthropic.com", "ANTHROPIC_API_KEY"
        ),
        ProviderConfig(
            "google",
            ProviderKind.OPENAI,
            "https://generativelanguage.googleapis.com/v1beta/openai",
            "GEMINI_API_KEY",
        ),
        ProviderConfig(
            "mistral", ProviderKind.OPENAI, "https://api.mistral.ai/v1", "MISTRAL_API_KEY"
        ),
        ProviderConfig("xai", ProviderKind.OPENAI, "https://api.x.ai/v1", "XAI_API_KEY"),
        ProviderConfig(
            "deepseek", ProviderKind.OPENAI, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"
        ),
        ProviderConfig("sim", ProviderKind.SIM),
    )
}
"""Providers every registry knows without configuration; turnout.yaml may override them."""
