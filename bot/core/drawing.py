"""Charts drawn in a short-lived worker process, in a server.

matplotlib, once imported and used, keeps some 70 MB (its modules, fonts, caches) that a
process never gets back: a server that drew one digest chart stayed that much bigger for
good (issue 28). A long-running server therefore draws each chart in a process of its own
that ends when the PNG is made (`use_worker(True)`, set by `bot.handlers.serving.serve` for
`vangnet run`);
elsewhere (the command line, the tests) charts are drawn in the process itself, which ends
soon anyway.

The worker is a fresh interpreter (`python -m bot.core.drawing`), not a fork: a fork of a
server with threads (the event loop, its worker threads, their locks) may copy a lock some
thread held, and multiprocessing's "spawn" would run the server's main module again. It
reads the drawing function and its arguments, pickled, on its standard input and writes the
PNG on its standard output: what it draws must be a module-level function whose arguments
pickle (a `Translator` pickles as its language).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

_in_worker = False
# a chart takes a second or two (starting Python, importing matplotlib, drawing)
WORKER_TIMEOUT = 60.0


def use_worker(on: bool) -> None:
    """Draw charts in a worker process from now on (`on`), or in this process."""
    global _in_worker
    _in_worker = on


def png(draw: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
    """`draw(*args, **kwargs)`: in a worker process that ends with it, when `use_worker` is
    on; here otherwise."""
    if not _in_worker:
        return draw(*args, **kwargs)
    done = subprocess.run(
        [sys.executable, "-m", __name__],
        input=pickle.dumps((draw, args, kwargs)),
        capture_output=True,
        check=False,
        timeout=WORKER_TIMEOUT,
    )
    if done.returncode != 0 or not done.stdout:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"the chart worker failed ({done.returncode}): {last[0]}")
    return done.stdout


def _work() -> None:
    draw, args, kwargs = pickle.load(sys.stdin.buffer)
    sys.stdout.buffer.write(draw(*args, **kwargs))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _work()
