"""What encrypting the personal fields costs: the 5,000-row CSV import and `/leavers`.

    .venv/bin/python benchmarks/encryption.py [--rows 5000] [--lists 50]

Runs the same work twice in one process, each time on a fresh SQLite database with the demo
region: once as Vangnet runs (every personal field encrypted with Fernet on the way in and
decrypted on the way out), and once as a baseline with the Fernet calls replaced by doing
nothing (the column types stay, so the difference is the cryptography itself), alternating,
best of --repeat runs each. Prints the time of each and the difference; it asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from bot.core import clock
from bot.core.app import Core
from bot.core.context import system_person
from bot.core.directory import sync_region
from bot.core.intake.csv_import import import_csv
from bot.region import Region
from bot.region.file import load_demo_region
from bot.store import crypto
from bot.store.db import make_engine, session_scope, upgrade

HEADER = "student_ref,name,contact,birth_year,home_municipality,programme,vso_profile,"
HEADER += "expected_exit,early_leaver,destination_wish,consent,notes"


def generate(rows: int, municipalities: list[str], today: date, seed: int = 15) -> bytes:
    """A school's big upload; most leavers with consent, so most rows carry personal data."""
    rnd = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER.split(","))
    for i in range(rows):
        programme = rnd.choice(["pro", "vso", "entree"])
        consent = "given" if rnd.random() < 0.8 else "not_asked"
        y, m = divmod(today.month - 1 + rnd.randint(1, 20), 12)
        given = consent == "given"
        writer.writerow(
            [
                f"EN-{i:05d}",
                f"Leerling {i} Voorbeeld" if given else "",
                f"06-{rnd.randint(10_000_000, 99_999_999)}" if given else "",
                str(today.year - rnd.randint(15, 19)),
                rnd.choice(municipalities),
                programme,
                rnd.choice(["work", "day_activities"]) if programme == "vso" else "",
                f"{today.year + y}-{m + 1:02d}",
                "no",
                rnd.choice(["work", "further_education", "unknown"]),
                consent,
                "Stage bij de bakker; werkt graag met de handen." if given else "",
            ]
        )
    return out.getvalue().encode("utf-8")


@contextmanager
def without_cryptography() -> Iterator[None]:
    """The baseline: the column types store and return the text as it is."""
    saved = crypto.encrypt, crypto.decrypt
    crypto.encrypt = lambda plain: plain  # type: ignore[assignment]
    crypto.decrypt = lambda token: token  # type: ignore[assignment]
    try:
        yield
    finally:
        crypto.encrypt, crypto.decrypt = saved  # type: ignore[assignment]


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(region: Region, data: bytes, lists: int) -> tuple[float, float]:
    """Seconds of the import, and of one `/leavers` (a coordinator's first page) on average."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with session_scope(engine) as session:
            sync_region(session, region)
        core = Core(engine=engine, region=region, default_language="en")

        def imported() -> None:
            with session_scope(engine) as session:
                ctx = core.ctx(session, system_person(), transport="cli", private=True)
                result = import_csv(ctx, school_id="brug", data=data)
            assert result.ok, result.problems[:3]

        import_s = seconds(imported)

        def listed() -> None:
            for page in range(1, lists + 1):
                core.handle_text(person_id="anna", text=f"/leavers {page}", transport="bench")

        list_s = seconds(listed) / lists
        engine.dispose()
    return import_s, list_s


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--lists", type=int, default=50, help="pages of /leavers to time")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best counts")
    args = parser.parse_args()

    crypto.use_keys([Fernet.generate_key()])
    region = load_demo_region()
    data = generate(args.rows, [m.name for m in region.municipalities], clock.today(region.tz))
    warm_up = generate(50, [m.name for m in region.municipalities], clock.today(region.tz))
    measure(region, warm_up, 1)  # imports, caches, first queries
    plain: list[tuple[float, float]] = []
    encrypted: list[tuple[float, float]] = []
    for _ in range(args.repeat):  # alternating, so a busy moment of the machine hits both
        with without_cryptography():
            plain.append(measure(region, data, args.lists))
        encrypted.append(measure(region, data, args.lists))
    plain_import, plain_list = (min(p[i] for p in plain) for i in (0, 1))
    enc_import, enc_list = (min(e[i] for e in encrypted) for i in (0, 1))

    def row(what: str, plain: float, enc: float, unit: str = "s", scale: float = 1) -> str:
        extra = (enc - plain) / plain * 100 if plain else 0.0
        return (
            f"{what:<28} {plain * scale:9.3f} {unit:<2} {enc * scale:9.3f} {unit:<2}"
            f" {(enc - plain) * scale:+9.3f} {unit:<2} ({extra:+.0f}%)"
        )

    print(
        f"{args.rows} rows (about 80% with name, contact and notes), SQLite, best of "
        f"{args.repeat} runs each"
    )
    print(f"{'':<28} {'baseline':>12} {'encrypted':>12} {'cost':>12}")
    print(row("CSV import, all added", plain_import, enc_import))
    print(row("/leavers, one page (avg)", plain_list, enc_list, "ms", 1000))


if __name__ == "__main__":
    main()
