"""Progress of a download on stderr: a bar on a terminal, plain lines otherwise."""
from __future__ import annotations

import sys
from typing import IO, Protocol


class Progress(Protocol):
    """Progress of one file's fetch, in native candles."""

    def begin(self, label: str, total: int) -> None:
        """A file's fetch starts; about `total` native candles to fetch."""

    def advance(self, n: int) -> None:
        """`n` more native candles fetched."""

    def end(self) -> None:
        """The file's fetch is over."""


class LineProgress:
    """Plain progress lines on stderr (no terminal: logs, CI, a pipe)."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stderr
        self.label, self.total, self.done = "", 0, 0

    def begin(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0

    def advance(self, n: int) -> None:
        self.done += n
        share = min(100, self.done * 100 // self.total)
        print(f"download: {self.label}: {self.done:,} of ~{self.total:,} candles ({share}%)",
              file=self.out, flush=True)

    def end(self) -> None:
        return None


class BarProgress:
    """A tqdm progress bar on stderr (a terminal)."""

    def __init__(self) -> None:
        self.bar = None

    def begin(self, label: str, total: int) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]
        self.bar = tqdm(total=max(total, 1), desc=label, unit=" candles", unit_scale=True,
                        file=sys.stderr, leave=True, dynamic_ncols=True)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_for(stream: IO[str]) -> Progress:
    """A bar on a terminal, plain lines otherwise."""
    return BarProgress() if stream.isatty() else LineProgress(stream)
