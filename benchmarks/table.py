"""The benchmarks' figures: each with its baseline (measured in the same run), target and
whether the target is met, and the machine they were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Figure:
    database: str  # "SQLite" | "PostgreSQL" | "-"
    what: str
    value: float
    unit: str  # "ms" | "s" | "MB" | "msg/s"
    baseline: float | None = None
    baseline_what: str = ""
    target: str = ""  # what the issue asks, in words
    met: bool | None = None  # None: no target for this figure
    reason: str = ""  # why not, where the target is not met

    @property
    def ratio(self) -> str:
        if self.baseline is None or self.baseline == 0:
            return ""
        return f"{self.value / self.baseline:.2f}"


def check(figure: Figure, ok: bool, reason: str = "") -> Figure:
    figure.met = ok
    if not ok:
        figure.reason = reason
    return figure


def pct(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `samples`."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), in MB."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def machine(pg_version: str | None) -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "unknown"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    load = os.getloadavg()
    facts = [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}, {os.cpu_count()} cores; load average at the end {load[0]:.1f}",
        f"- RAM: {mem}",
        f"- OS: {platform.platform()}",
        f"- Python: {sys.version.split()[0]}",
        f"- SQLite: {sqlite3.sqlite_version}",
    ]
    if pg_version:
        facts.append(f"- PostgreSQL: {pg_version}")
    return facts


def _num(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.2f} {unit}"


def markdown(figures: list[Figure]) -> list[str]:
    lines = [
        "| database | figure | value | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        base = f"{_num(f.baseline, f.unit)} ({f.baseline_what})" if f.baseline is not None else ""
        met = "" if f.met is None else ("yes" if f.met else f"**no**: {f.reason}")
        value = _num(f.value, f.unit)
        lines.append(
            f"| {f.database} | {f.what} | {value} | {base} | {f.ratio} | {f.target} | {met} |"
        )
    return lines


def plain(figures: list[Figure]) -> str:
    """The table for a terminal."""
    rows = [("db", "figure", "value", "baseline", "ratio", "target", "met")]
    for f in figures:
        rows.append(
            (
                f.database,
                f.what,
                _num(f.value, f.unit),
                _num(f.baseline, f.unit) if f.baseline is not None else "",
                f.ratio,
                f.target,
                "" if f.met is None else ("yes" if f.met else "NO: " + f.reason),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    )
