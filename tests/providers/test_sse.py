"""The incremental event-stream decoder: every way a stream can be cut into reads."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from turnout.providers.sse import SSEDecoder, SSEEvent, aiter_sse, encode_sse_data

OPENAI_STREAM = (
    b": keep-alive comment\n\n"
    b'data: {"n": 1}\n\n'
    b'data: {"n": 2}\r\n\r\n'
    b"event: message_delta\r"
    b'data: {"n": 3}\r\r'
    b"data: line one\ndata: line two\nid: 7\nretry: 100\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent("message", b'{"n": 1}'),
    SSEEvent("message", b'{"n": 2}'),
    SSEEvent("message_delta", b'{"n": 3}'),
    SSEEvent("message", b"line one\nline two"),
    SSEEvent("message", b"[DONE]"),
]


def decode(pieces: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.close()


def test_one_read_with_every_line_ending_and_comments() -> None:
    assert decode([OPENAI_STREAM]) == EXPECTED


def test_byte_by_byte_reads_give_the_same_events() -> None:
    assert decode([OPENAI_STREAM[i : i + 1] for i in range(len(OPENAI_STREAM))]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, 40))
def test_any_two_way_split_gives_the_same_events(cut: int) -> None:
    assert decode([OPENAI_STREAM[:cut], OPENAI_STREAM[cut:]]) == EXPECTED


def test_events_are_dispatched_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"a"') == []
    assert decoder.feed(b": 1}\n") == []
    assert decoder.feed(b"\n") == [SSEEvent("message", b'{"a": 1}')]
    assert decoder.feed(b"data: x\r") == []  # a trailing \r may be half of \r\n
    assert decoder.feed(b"\n\r\n") == [SSEEvent("message", b"x")]


def test_close_flushes_an_unterminated_last_event_and_ignores_empty_ones() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: [DONE]") == []
    assert decoder.close() == [SSEEvent("message", b"[DONE]")]
    assert decode([b"event: ping\n\n", b": only a comment\n\n"]) == []
    assert decode([b"data\n\n", b"data:no-space\n\n"]) == [
        SSEEvent("message", b""),
        SSEEvent("message", b"no-space"),
    ]


def test_an_endless_line_is_refused_rather_than_buffered() -> None:
    decoder = SSEDecoder()
    for _ in range(8):
        assert decoder.feed(b"x" * (1024 * 1024)) == []
    with pytest.raises(ValueError, match="exceeds"):
        decoder.feed(b"x")


def test_encoded_events_decode_back() -> None:
    payload = {"id": "c1", "choices": [{"delta": {"content": "line\nbreak"}}]}
    assert decode([encode_sse_data(payload)]) == [
        SSEEvent("message", b'{"id":"c1","choices":[{"delta":{"content":"line\\nbreak"}}]}')
    ]


@pytest.mark.anyio
async def test_aiter_sse_yields_each_event_before_the_next_read() -> None:
    reads: list[bytes] = []

    async def source() -> AsyncIterator[bytes]:
        for piece in (b"data: 1\n", b"\ndata: 2\n\n", b"data: 3"):
            reads.append(piece)
            yield piece

    seen = []
    async for event in aiter_sse(source()):
        seen.append((event.data, len(reads)))
    assert seen == [(b"1", 2), (b"2", 2), (b"3", 3)]
