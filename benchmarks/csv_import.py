"""How long a large CSV import takes: 5,000 leavers into a fresh SQLite database.

    .venv/bin/python benchmarks/csv_import.py [--rows 5000] [--profile]

Builds the demo region in a temporary database, generates a file like a big school would
upload (a mix of municipalities, programmes and exit months, a share of them due at once so
that brokers are pinged), checks it with one bad row added at the end (so nothing is saved),
imports it as the system, then imports the same file again (every row an update), and
prints the seconds each took. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core import clock
from bot.core.app import Core
from bot.core.context import system_person
from bot.core.directory import sync_region
from bot.core.intake.csv_import import ImportResult, import_csv
from bot.region.file import load_demo_region
from bot.store.db import make_engine, session_scope, upgrade

HEADER = [
    "student_ref",
    "name",
    "birth_year",
    "home_municipality",
    "programme",
    "vso_profile",
    "expected_exit",
    "early_leaver",
    "destination_wish",
    "consent",
    "notes",
]


def _month(today: date, ahead: int) -> str:
    y, m = divmod(today.month - 1 + ahead, 12)
    return f"{today.year + y}-{m + 1:02d}"


def generate(rows: int, municipalities: list[str], today: date, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(rows):
        programme = rnd.choice(["pro", "vso", "entree"])
        consent = rnd.choice(["given", "not_asked", "refused"])
        writer.writerow(
            [
                f"BM-{i:05d}",
                f"Leerling {i}" if consent == "given" else "",
                str(today.year - rnd.randint(15, 19)),
                rnd.choice(municipalities),
                programme,
                rnd.choice(["work", "day_activities"]) if programme == "vso" else "",
                _month(today, rnd.randint(1, 20)),
                "no",
                rnd.choice(["work", "further_education", "unknown"]),
                consent,
                "Stage bij de bakker; werkt graag met de handen." if consent == "given" else "",
            ]
        )
    return out.getvalue().encode("utf-8")


def timed_import(core: Core, data: bytes) -> tuple[ImportResult, float]:
    started = time.perf_counter()
    with session_scope(core.engine) as session:
        ctx = core.ctx(session, system_person(), transport="cli", private=True)
        result = import_csv(ctx, school_id="brug", data=data)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--profile", action="store_true", help="print the top of a profile")
    args = parser.parse_args()

    region = load_demo_region()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with session_scope(engine) as session:
            sync_region(session, region)
        core = Core(engine=engine, region=region, default_language="en")
        data = generate(args.rows, [m.name for m in region.municipalities], clock.today(region.tz))

        bad = data + b"BM-BAD,,2009,Zwole,pro,,2020-01,no,work,not_asked,\r\n"
        refused, refused_s = timed_import(core, bad)  # checks every row, saves nothing
        assert [p.line for p in refused.problems] == [args.rows + 2] * 2, refused.problems

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        first, first_s = timed_import(core, data)
        if profiler:
            profiler.disable()
        assert first.ok and first.added == args.rows, first.problems[:5]
        again, again_s = timed_import(core, data)
        assert again.ok and again.updated == args.rows, again.problems[:5]
        engine.dispose()

    print(f"{args.rows} rows, {len(data) / 1024:.0f} KiB, SQLite")
    print(f"checking only (last row bad, nothing saved): {refused_s:6.2f} s")
    print(f"first import (all added):                    {first_s:6.2f} s")
    print(f"same file again (all updated):               {again_s:6.2f} s")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
