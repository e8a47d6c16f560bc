"""A server draws its charts in a worker process: the chart is the same, and matplotlib
never comes into the server."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_a_chart_drawn_in_a_worker_is_the_one_drawn_here_and_leaves_matplotlib_out() -> None:
    # in a fresh interpreter: this test process may have imported matplotlib already
    script = textwrap.dedent(
        """
        import sys
        from bot.core import drawing
        from bot.core.i18n import translator
        from bot.core.scan.results import Result, chart

        shown = [(f"F{i}", Result(i, 2.5 + i / 10, 0.5, 12)) for i in range(1, 8)]
        drawing.use_worker(True)
        there = drawing.png(chart, translator("nl"), shown, title="Scan 3")
        assert there.startswith(b"\\x89PNG"), there[:20]
        assert "matplotlib" not in sys.modules
        drawing.use_worker(False)
        assert drawing.png(chart, translator("nl"), shown, title="Scan 3") == there
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_worker_that_fails_says_so() -> None:
    from bot.core import drawing

    drawing.use_worker(True)
    try:
        failed = None
        try:
            drawing.png(_fails)
        except RuntimeError as exc:
            failed = str(exc)
        assert failed is not None and "no chart here" in failed
    finally:
        drawing.use_worker(False)


def _fails() -> bytes:
    raise ValueError("no chart here")
