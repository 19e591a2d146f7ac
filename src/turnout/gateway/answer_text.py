"""The text of an OpenAI answer or stream chunk: what scorers and shadow pairs compare."""

from __future__ import annotations

from typing import Any

__all__ = ["answer_text", "delta_text", "text_of"]


def text_of(content: object) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def answer_text(completion: dict[str, Any]) -> str:
    """The first choice's message text of a ``chat.completion``."""
    choices = completion.get("choices") or [{}]
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    return text_of(message.get("content")) if isinstance(message, dict) else ""


def delta_text(chunk: dict[str, Any]) -> str:
    """The first choice's delta text of a ``chat.completion.chunk``."""
    choices = chunk.get("choices") or ()
    if not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta")
    return text_of(delta.get("content")) if isinstance(delta, dict) else ""
