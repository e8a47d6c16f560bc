"""Realistic data for the benchmarks, built in seconds: a national-size region and N cases
with four years of history (audit events, tasks, sent messages).

    .venv/bin/python benchmarks/builder.py --cases 100000 [--url sqlite:///x.db]

The region is generated: 120 municipalities with two brokers each, 80 schools with a school
contact each, a coordinator and a doorstroompunt, everyone on Slack. Cases are spread over
four years of exits; their state follows from where their exit date lies (forecasts ahead,
due and claimed around now, placed, closed, lost and withdrawn behind), with the audit events,
tasks (done and pending) and sent messages such a life leaves behind.

Rows are written with SQLAlchemy Core `executemany` on the table objects, so every column
type (UTC datetimes, JSON, and any encrypting type on personal columns) is applied exactly as
the application writes it. SQLite databases are kept per size in a cache directory
(BENCH_CACHE, default ~/.cache/vangnet-bench) keyed by the migrations, and copied for each use.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, text

from bot.core.directory import sync_region
from bot.core.refs import ALPHABET
from bot.region import Region
from bot.region.file import load_region
from bot.store import crypto
from bot.store.db import MIGRATIONS, make_engine, session_scope, upgrade
from bot.store.models import AuditEvent, Case, OutboxMessage, Task

# The key of the personal fields in every benchmark database (its people are made up); the
# processes the benchmarks start (the Slack server, `vangnet digest`) get it by environment.
BENCH_KEY = "dmFuZ25ldC1iZW5jaG1hcmsta2V5LTAwMDAwMDAwMDA="
os.environ["VANGNET_SECRET_KEY"] = BENCH_KEY
crypto.use_keys([BENCH_KEY.encode()])

CACHE = Path.home() / ".cache" / "vangnet-bench"
BATCH = 5_000
YEARS = 4
WINDOW_WEEKS = 13


@dataclass(frozen=True)
class World:
    region: Region
    region_file: Path
    municipalities: list[tuple[str, str]]  # (code, name)
    brokers: dict[str, list[str]]  # municipality code -> broker ids
    schools: list[tuple[str, str, str]]  # (id, type, municipality code)
    contacts: dict[str, str]  # school id -> contact id


def telegram_id(role: str, i: int, j: int = 0) -> int:
    """The Telegram user id of broker `i`-`j` or of school contact `i` in the region file."""
    return (5_000_000 if role == "broker" else 6_000_000) + i * 10 + j


def region_data(municipalities: int = 120, schools: int = 80, brokers: int = 2) -> dict[str, Any]:
    """A region file's data: a country-sized network, everyone reachable on Slack and on
    Telegram (`telegram_id`)."""
    munis = [
        {"code": f"GM{1000 + i:04d}", "name": f"Gemeente {i:03d}"} for i in range(municipalities)
    ]
    types = ["pro", "vso", "entree"]
    school_rows = [
        {
            "id": f"s{i:03d}",
            "name": f"School {i:03d}",
            "type": types[i % 3],
            "municipality": munis[(i * 7) % municipalities]["code"],
        }
        for i in range(schools)
    ]
    people: list[dict[str, Any]] = [
        {"id": "coord", "name": "Coordinator", "roles": ["coordinator"], "slack": "UCOORD"},
        {"id": "rmc", "name": "Doorstroompunt", "roles": ["doorstroompunt"], "slack": "URMC"},
    ]
    for i, m in enumerate(munis):
        for j in range(brokers):
            people.append(
                {
                    "id": f"b{i:03d}{j}",
                    "name": f"Broker {i:03d}-{j}",
                    "roles": ["broker"],
                    "municipality": m["code"],
                    "slack": f"UB{i:03d}{j}",
                    "telegram": telegram_id("broker", i, j),
                }
            )
    for i, s in enumerate(school_rows):
        people.append(
            {
                "id": f"c{i:03d}",
                "name": f"Contact {i:03d}",
                "roles": ["school_contact"],
                "school": s["id"],
                "slack": f"UC{i:03d}",
                "telegram": telegram_id("contact", i),
            }
        )
    return {
        "region": "Nederland (benchmark)",
        "timezone": "Europe/Amsterdam",
        "language": "nl",
        "municipalities": munis,
        "schools": school_rows,
        "people": people,
        "schedule": {"handover_window_weeks": WINDOW_WEEKS},
    }


def world(
    directory: Path, *, municipalities: int = 120, schools: int = 80, brokers: int = 2
) -> World:
    data = region_data(municipalities, schools, brokers)
    path = directory / f"region-{municipalities}-{schools}-{brokers}.yaml"
    if not path.exists():
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    region = load_region(path)
    brokers: dict[str, list[str]] = {}
    contacts: dict[str, str] = {}
    for p in data["people"]:
        if "broker" in p["roles"]:
            brokers.setdefault(p["municipality"], []).append(p["id"])
        if "school_contact" in p["roles"]:
            contacts[p["school"]] = p["id"]
    return World(
        region=region,
        region_file=path,
        municipalities=[(m["code"], m["name"]) for m in data["municipalities"]],
        brokers=brokers,
        schools=[(s["id"], s["type"], s["municipality"]) for s in data["schools"]],
        contacts=contacts,
    )


def _refs(rnd: random.Random, n: int) -> Iterator[str]:
    """Unique references the way `refs.new_ref` draws them: four characters until that gets
    crowded, then five."""
    taken: set[str] = set()
    for _ in range(n):
        length = 4
        while True:
            for _ in range(8):
                ref = "".join(rnd.choice(ALPHABET) for _ in range(length))
                if ref not in taken:
                    taken.add(ref)
                    yield ref
                    break
            else:
                length += 1
                continue
            break


def _at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


DESTINATIONS = [
    "work",
    "work_with_support",
    "sheltered_work",
    "further_education",
    "day_activities",
]


def rows(w: World, n: int, now: datetime, seed: int = 16) -> Iterator[tuple[str, Any]]:
    """('case' | 'audit' | 'task' | 'outbox', row) for `n` cases and their history."""
    rnd = random.Random(seed)
    today = now.date()
    start = today - timedelta(days=365 * YEARS)
    span = (today + timedelta(days=365 * 3 // 2) - start).days  # exits up to 1.5 years ahead
    refs = _refs(rnd, n)
    munis = [code for code, _ in w.municipalities]
    for i in range(n):
        school_id, kind, school_muni = w.schools[i % len(w.schools)]
        home = school_muni if rnd.random() < 0.6 else rnd.choice(munis)
        ref = next(refs)
        exit_day = start + timedelta(days=rnd.randrange(span))
        created = _at(
            max(start - timedelta(days=200), exit_day - timedelta(days=rnd.randint(60, 500))), 9
        )
        created = min(created, now - timedelta(hours=1))
        opens = exit_day - timedelta(weeks=WINDOW_WEEKS)
        early = rnd.random() < 0.04
        consent = rnd.choices(["given", "not_asked", "refused"], [5, 3, 2])[0]
        r = rnd.random()
        if opens > today and not early:
            state = "withdrawn" if r < 0.02 else "forecast"
        elif exit_day > today - timedelta(days=60):
            state = rnd.choices(["due", "claimed", "placed", "withdrawn"], [3, 70, 22, 5])[0]
        else:
            state = rnd.choices(
                ["closed", "placed", "lost", "withdrawn", "claimed"], [55, 25, 8, 7, 5]
            )[0]
        due_at = _at(min(opens, created.date() + timedelta(days=1))) if early else _at(opens)
        if state == "due" and due_at < now - timedelta(days=20):
            due_at = now - timedelta(days=rnd.randint(0, 12), hours=rnd.randint(0, 20))
        brokers = w.brokers[home]
        owner = rnd.choice(brokers) if state in ("claimed", "placed", "closed", "lost") else None
        placed = state in ("placed", "closed")
        erased = state in ("closed", "withdrawn", "lost") and exit_day < today - timedelta(days=730)
        personal = consent == "given" and not erased
        programme = kind
        contact = w.contacts[school_id]
        yield (
            "case",
            {
                "ref": ref,
                "school_id": school_id,
                "registered_by": contact,
                "student_ref": f"LL{i:07d}",
                "name": f"Leerling {i}" if personal else None,
                "contact": "06-12345678" if personal and r < 0.5 else None,
                "notes": "Wil graag met de handen werken." if personal else None,
                "birth_year": exit_day.year - rnd.randint(16, 19),
                "home_municipality_code": home,
                "responsible_municipality_code": home,
                "assigned_person_id": None,
                "programme": programme,
                "vso_profile": rnd.choice(["work", "day_activities"])
                if programme == "vso"
                else None,
                "expected_exit": exit_day,
                "early_leaver": early,
                "urgent": early,
                "destination_wish": rnd.choice(["work", "further_education", "unknown"]),
                "consent": consent,
                "consent_date": created.date() if consent == "given" else None,
                "state": state,
                "owner_id": owner,
                "destination": rnd.choice(DESTINATIONS) if placed else None,
                "placement_org": "Bakkerij De Korenschoof" if placed and personal else None,
                "placement_start": exit_day if placed else None,
                "closed_reason": None,
                "followup_open": None,
                "followups_done": 4
                if state == "closed"
                else (rnd.randint(0, 3) if state == "placed" else 0),
                "due_at": due_at if state not in ("forecast",) else None,
                "created_at": created,
                "updated_at": max(created, min(now, due_at)),
                "personal_data_erased_at": _at(exit_day + timedelta(days=730)) if erased else None,
                "version": {"forecast": 1, "due": 2, "claimed": 3, "placed": 4}.get(state, 5),
            },
        )

        def audit(at: datetime, actor: str, action: str, **detail: Any) -> tuple[str, Any]:
            return "audit", {
                "at": at,
                "actor_id": actor,
                "transport": "slack",
                "action": action,
                "case_ref": ref,
                "detail": detail,
            }

        def task(kind_: str, due: datetime, done: bool, **payload: Any) -> tuple[str, Any]:
            return "task", {
                "kind": kind_,
                "case_ref": ref,
                "person_id": None,
                "payload": payload,
                "dedupe_key": f"{kind_}:{ref}:{due.date().isoformat()}",
                "due_at": due,
                "created_at": created,
                # what fell due before now was swept already: a running system is caught up
                "done_at": due if done or due <= now else None,
                "leased_until": None,
                "attempts": 0,
                "last_error": None,
            }

        yield audit(created, contact, "register", programme=programme, home_municipality_code=home)
        if state == "forecast":
            yield task("window_open", due_at, False)
            continue
        if state == "withdrawn":
            yield audit(created + timedelta(days=30), contact, "withdraw", reason="moved")
            continue
        yield audit(due_at, "system", "make_due", **{"from": "forecast", "to": "due"})
        yield task("window_open", due_at, True)
        yield (
            "outbox",
            {
                "person_id": brokers[0],
                "kind": "due",
                "case_ref": ref,
                "payload": {"title": "due", "text": ref},
                "dedupe_key": f"due:{ref}:{brokers[0]}",
                "created_at": due_at,
                "not_before": due_at,
                "sent_at": due_at + timedelta(seconds=2),
                "sent_via": "slack",
                "attempts": 0,
            },
        )
        remind = due_at + timedelta(days=5)
        yield task("remind_unclaimed", remind, state != "due", version=2, workdays=3)
        if state == "due":
            continue
        claimed_at = due_at + timedelta(hours=rnd.randint(1, 60))
        yield audit(
            claimed_at,
            owner or "system",
            "claim",
            owner_id=owner,
            **{"from": "due", "to": "claimed"},
        )
        if state == "claimed":
            continue
        placed_at = claimed_at + timedelta(days=rnd.randint(7, 60))
        if state == "lost":
            yield audit(
                placed_at, owner or "system", "lose_contact", **{"from": "claimed", "to": "lost"}
            )
            continue
        yield audit(placed_at, owner or "system", "place", **{"from": "claimed", "to": "placed"})
        for k, days in enumerate((30, 91, 182, 365)):
            at = placed_at + timedelta(days=days)
            done = state == "closed" or k < 2
            yield task("followup", at, done, index=k)
            if done:
                yield audit(at, owner or "system", "followup_ok")
        if state == "closed":
            yield audit(placed_at + timedelta(days=366), owner or "system", "followup_ok_last")
        if erased:
            yield audit(_at(exit_day + timedelta(days=730)), "system", "erase_personal_data")


def fill(engine: Engine, w: World, n: int, *, now: datetime | None = None) -> dict[str, int]:
    """Write `n` cases and their history in bulk; returns how many rows per table."""
    now = now or datetime.now(UTC)
    tables = {
        "case": Case.__table__,  # type: ignore[attr-defined]
        "audit": AuditEvent.__table__,  # type: ignore[attr-defined]
        "task": Task.__table__,  # type: ignore[attr-defined]
        "outbox": OutboxMessage.__table__,  # type: ignore[attr-defined]
    }
    pending: dict[str, list[dict[str, Any]]] = {k: [] for k in tables}
    counts = dict.fromkeys(tables, 0)
    with engine.begin() as conn:
        for kind, row in rows(w, n, now):
            if kind == "audit" and row["at"] > now:
                continue  # what has not happened yet leaves no trace
            batch = pending[kind]
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(insert(tables[kind]), batch)
                counts[kind] += len(batch)
                batch.clear()
        for kind, batch in pending.items():
            if batch:
                conn.execute(insert(tables[kind]), batch)
                counts[kind] += len(batch)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return counts


def add_due(
    engine: Engine, w: World, per_municipality: int, municipalities: int
) -> dict[str, list[str]]:
    """`per_municipality` fresh due cases in each of the first `municipalities`
    municipalities (for Claim clicks): municipality code -> their references."""
    now = datetime.now(UTC)
    rnd = random.Random(99)
    made: dict[str, list[str]] = {}
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        taken = {r for (r,) in conn.execute(text("SELECT ref FROM cases"))}
        for code, _ in w.municipalities[:municipalities]:
            for k in range(per_municipality):
                while True:
                    ref = "".join(rnd.choice(ALPHABET) for _ in range(6))
                    if ref not in taken:
                        taken.add(ref)
                        break
                made.setdefault(code, []).append(ref)
                school_id = w.schools[k % len(w.schools)][0]
                batch.append(
                    {
                        "ref": ref,
                        "school_id": school_id,
                        "registered_by": w.contacts[school_id],
                        "student_ref": f"DUE-{code}-{k}",
                        "home_municipality_code": code,
                        "responsible_municipality_code": code,
                        "programme": "pro",
                        "expected_exit": (now + timedelta(weeks=8)).date(),
                        "state": "due",
                        "due_at": now - timedelta(hours=k),
                        "created_at": now - timedelta(days=30),
                        "updated_at": now - timedelta(hours=k),
                        "version": 2,
                    }
                )
        conn.execute(insert(Case.__table__), batch)  # type: ignore[attr-defined]
    return made


def schema_key() -> str:
    """Changes when a migration or the builder changes: a cached database is then rebuilt."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def prepare(url: str, w: World, n: int) -> dict[str, int]:
    """Migrate the (empty) database at `url`, write the region and `n` cases."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            sync_region(session, w.region)
        return fill(engine, w, n) if n else {}
    finally:
        engine.dispose()


def sqlite_copy(w: World, n: int, target: Path) -> Path:
    """A SQLite database with `n` cases at `target`, copied from the cache (built if missing)."""
    import os

    cache = Path(os.environ.get("BENCH_CACHE", CACHE))
    cache.mkdir(parents=True, exist_ok=True)
    cached = cache / f"{w.region_file.stem}-cases-{n}-{schema_key()}.db"
    if not cached.exists():
        building = cached.with_suffix(".building")
        building.unlink(missing_ok=True)
        prepare(f"sqlite:///{building}", w, n)
        building.rename(cached)
    shutil.copyfile(cached, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--url", help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        w = world(Path(tmp))
        url = args.url or f"sqlite:///{tmp}/built.db"
        started = time.perf_counter()
        counts = prepare(url, w, args.cases)
        print(f"{counts} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
