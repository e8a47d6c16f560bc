"""The scan benchmark (benchmarks/scan_votes.py) still runs: at 0 cases, with a few votes, on
Slack and Telegram at once (each in a process of its own, as `make bench` would run it), it
gives every figure, every voter's answer and every tally having come."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VOTES = 4
WAIT_S = 30.0  # scan_votes.WAIT: what a figure shows when its answer never came


def test_the_scan_benchmark_gives_its_figures_on_slack_and_telegram() -> None:
    runs = {
        transport: subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "scan_votes.py"),
                *("--cases", "0", "--votes", str(VOTES), "--spread", "0.3", "--rounds", "1"),
                *("--transport", transport, "--json"),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for transport in ("Slack", "Telegram")
    }
    for transport, run in runs.items():
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-2000:]
        figures: list[dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
        whats = [f["what"] for f in figures]
        for factor in ("factor 1 (no figures)", "factor 10 (figures)"):
            for p in ("p50", "p99"):
                assert any(
                    f"{transport} scan: voter's own answer" in w and p in w and factor in w
                    for w in whats
                )
            assert any(f"tally counts all {VOTES} votes" in w and factor in w for w in whats)
        assert any("/scan next until the factor's first message" in w for w in whats)
        answers = [f for f in figures if "own answer" in f["what"]]
        assert all("not answered" not in f["reason"] for f in answers)
        assert all(f["value"] < WAIT_S * 1000 and f["baseline"] for f in answers)
        tallies = [f for f in figures if "tally" in f["what"]]
        assert len(tallies) == 2 and all(f["value"] < WAIT_S for f in tallies)
