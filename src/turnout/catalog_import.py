"""Read a catalog update: turnout's own YAML, or LiteLLM's model price map.

``turnout catalog update --from FILE`` accepts two shapes. turnout's catalog
YAML (the bundled file's schema) is validated by :mod:`turnout.catalog_file`
and asserts every non-null field. LiteLLM's ``model_prices_and_context_window.json``
maps a model name to ``litellm_provider``, per-token prices and a
``deprecation_date``; it knows nothing else (no family, release or replacement),
so only the prices and the date are taken, and every entry that cannot be tied
to a turnout provider is skipped and counted rather than guessed at.

LiteLLM calls the shut-off date ``deprecation_date``; it becomes ``retires``.
Its entries carry no ``checked`` date: the caller supplies one (the import date
by default), since that is when the facts were read.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from turnout.catalog_file import parse_catalog
from turnout.domain.catalog_merge import EntryUpdate, FactValue, update_from_entry
from turnout.domain.ids import VersionId
from turnout.errors import ConfigError, InvalidInput

__all__ = [
    "LITELLM_PROVIDERS",
    "LITELLM_SOURCE",
    "CatalogImport",
    "load_catalog_update",
    "parse_litellm",
]

LITELLM_SOURCE = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"

LITELLM_PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "mistral": "mistral",
    "codestral": "mistral",
    "xai": "xai",
    "deepseek": "deepseek",
}
"""LiteLLM provider names -> turnout's; any ``vertex_ai-*`` provider is ``google`` too."""

_MODES = frozenset({"chat", "completion", "responses"})
_KEY_PREFIXES = ("gemini/", "vertex_ai/", "mistral/", "xai/", "deepseek/", "anthropic/", "openai/")


@dataclass(frozen=True)
class CatalogImport:
    """The updates read from one file, its format, and what was skipped and why."""

    label: str
    format: str  # "turnout" or "litellm"
    updates: tuple[EntryUpdate, ...]
    skipped: Mapping[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def load_catalog_update(path: str | os.PathLike[str], checked: date) -> CatalogImport:
    """Read ``path`` in either format; ``checked`` dates LiteLLM's facts (it has no date)."""
    label = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read catalog update: {exc}", label, None) from exc
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"malformed JSON: {exc}", label, None) from exc
        return parse_litellm(document, label, checked)
    catalog = parse_catalog(text, label)
    updates = tuple(update_from_entry(entry, label) for entry in catalog)
    return CatalogImport(label, "turnout", updates)


def parse_litellm(document: object, label: str, checked: date) -> CatalogImport:
    """Updates from LiteLLM's model map; entries for other providers or modes are skipped."""
    if not isinstance(document, Mapping):
        raise InvalidInput(f"{label}: a LiteLLM model map must be a JSON object")
    skipped: Counter[str] = Counter()
    found: dict[tuple[str, str], tuple[int, EntryUpdate]] = {}
    for name, raw in document.items():
        if name == "sample_spec":
            continue
        if not isinstance(raw, Mapping):
            skipped["not an object"] += 1
            continue
        provider_name = str(raw.get("litellm_provider") or "")
        provider = LITELLM_PROVIDERS.get(provider_name)
        if provider is None and provider_name.startswith("vertex_ai"):
            provider = "google"
        if provider is None:
            skipped["provider not mapped"] += 1
            continue
        if raw.get("mode") is not None and raw.get("mode") not in _MODES:
            skipped["not a chat or completion model"] += 1
            continue
        model = _model_id(str(name))
        if model is None:
            skipped["id not mapped"] += 1
            continue
        facts = _facts(raw, name, label)
        if not facts:
            skipped["no date or price"] += 1
            continue
        facts["source"] = LITELLM_SOURCE
        update = EntryUpdate(provider, model, facts, checked, "LiteLLM")
        rank = 0 if provider_name in LITELLM_PROVIDERS else 1  # Gemini API before Vertex
        key = (provider, model)
        previous = found.get(key)
        if previous is not None:
            skipped["duplicate id"] += 1
            if previous[0] <= rank:
                continue
        found[key] = (rank, update)
    updates = tuple(update for _, update in found.values())
    return CatalogImport(label, "litellm", updates, dict(sorted(skipped.items())))


def _model_id(name: str) -> str | None:
    model = name
    for prefix in _KEY_PREFIXES:
        if model.startswith(prefix):
            model = model[len(prefix) :]
            break
    if "/" in model:
        return None  # a routed name (bedrock/..., openrouter/...): not the provider's own id
    try:
        VersionId.parse(f"x/{model}")
    except InvalidInput:
        return None
    return model


def _facts(raw: Mapping[str, object], name: str, label: str) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {}
    for source, target in (
        ("input_cost_per_token", "price_in_per_mtok"),
        ("output_cost_per_token", "price_out_per_mtok"),
    ):
        value = raw.get(source)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidInput(f"{label}: '{name}'.{source} must be a non-negative number")
        facts[target] = round(float(value) * 1_000_000, 6)
    when = raw.get("deprecation_date")
    if when is not None:
        try:
            facts["retires"] = date.fromisoformat(str(when).strip())
        except ValueError:
            try:
                facts["retires"] = datetime.fromisoformat(str(when).strip()).date()
            except ValueError:
                raise InvalidInput(
                    f"{label}: '{name}'.deprecation_date {when!r} is not a date YYYY-MM-DD"
                ) from None
    return facts
