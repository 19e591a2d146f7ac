"""A progress bar for long CLI work (eval runs, replays): on stderr, only on a terminal,
so ``--json`` output on stdout stays one parseable document and CI logs stay clean."""

from __future__ import annotations

from collections.abc import Callable

from turnout.cli.output import Output

__all__ = ["ProgressBar"]


class ProgressBar:
    """``with ProgressBar(out, total, "label") as advance: ... advance(done, total)``."""

    def __init__(self, out: Output, total: int, label: str) -> None:
        from rich.progress import Progress

        self._enabled = not out.json and out.err.is_terminal
        self._bar = Progress(console=out.err, transient=True)
        self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> Callable[[int, int], None]:
        if self._enabled:
            self._bar.start()
        return self.advance

    def __exit__(self, *_exc: object) -> None:
        if self._enabled:
            self._bar.stop()

    def advance(self, done: int, _total: int) -> None:
        if self._enabled:
            self._bar.update(self._task, completed=done)
