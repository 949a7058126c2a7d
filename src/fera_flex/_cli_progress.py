"""A progress bar for the command line: drawn on a terminal, silent when piped (stdlib only).

The bar counts steps (``advance(label)`` when one starts) and, while a step
runs, a background thread redraws the elapsed time a few times a second, so
a long solve visibly lives. On a stream that is not a terminal nothing is
written at all: output piped into a file or another program stays clean.

Examples
--------
>>> import io
>>> with Progress(2, "offers", stream=io.StringIO()) as progress:  # not a terminal: silent
...     progress.advance("trafo")
...     progress.advance("feeder-A")
>>> progress.done
2
"""

import sys
import threading
import time
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 24
_REFRESH_S = 0.2


class Progress:
    """Steps of a long command, drawn as ``label [#####-----] 2/5 step 3.1 s`` on a terminal.

    Parameters
    ----------
    total : int
        Number of steps.
    title : str
        What the steps make up (``"offers"``).
    stream : text stream, optional
        Where to draw; ``sys.stderr`` when omitted. Nothing is drawn unless
        ``stream.isatty()``.
    """

    def __init__(self, total: int, title: str, stream: TextIO | None = None) -> None:
        self.total = max(int(total), 1)
        self.title = title
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        self._label = ""
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        isatty = getattr(self._stream, "isatty", None)
        self.active = bool(isatty and isatty())
        self._thread: threading.Thread | None = None
        if self.active:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()

    def advance(self, label: str) -> None:
        """Count the previous step as done and start the step ``label``."""
        with self._lock:
            if self._label:
                self.done = min(self.done + 1, self.total)
            self._label = label
        self._draw()

    def close(self) -> None:
        """Count the last step, stop the redraws and clear the line."""
        with self._lock:
            if self._label:
                self.done = min(self.done + 1, self.total)
                self._label = ""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.active:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def line(self) -> str:
        """The bar as text (what is drawn)."""
        filled = round(_WIDTH * self.done / self.total)
        elapsed_s = time.monotonic() - self._started
        return (
            f"{self.title} [{'#' * filled}{'-' * (_WIDTH - filled)}] "
            f"{self.done}/{self.total} {self._label} {elapsed_s:.1f} s"
        )

    def _draw(self) -> None:
        if not self.active:
            return
        with self._lock:
            self._stream.write("\r\x1b[2K" + self.line())
            self._stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(_REFRESH_S):
            self._draw()
