"""Two things the outbox, the task table and the case table need alike: inserting a row that
may already be there, and leasing due rows so that of several instances exactly one works on
each. Keyword-only functions taking a session, like the queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, SQLModel, col, select

from bot.store.types import Encrypted


def insert_once(
    session: Session, row: SQLModel, *, unique: Sequence[str] | None = None
) -> int | None:
    """Insert `row` unless it would break a unique index (the one on the `unique` columns, or
    any when None); the new row's id, or None when such a row exists already.

    INSERT … ON CONFLICT DO NOTHING RETURNING id on SQLite and PostgreSQL, so a collision
    costs no savepoint and no exception; elsewhere a savepoint and the unique index decide.
    The row object itself is not added to the session: load it by id when it is needed.
    """
    table = type(row).__table__  # type: ignore[attr-defined]
    values = row.model_dump(exclude={"id"})
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        make = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = (
            make(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(unique) if unique else None)
            .returning(table.c.id)
        )
        inserted = session.execute(stmt).first()
        return None if inserted is None else int(inserted[0])
    try:
        with session.begin_nested():
            result = session.execute(insert(table).values(**values).returning(table.c.id))
            return int(result.scalar_one())
    except IntegrityError:
        return None


def lease_due(
    session: Session,
    model: type[SQLModel],
    *,
    due: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    now: datetime,
    until: datetime,
    limit: int,
    leased_before: set[int] | None = None,
) -> list[int]:
    """Lease up to `limit` rows that are `due` and not leased by anyone (or whose lease ran
    out): their ids, in `order_by` order. One statement picks them (FOR UPDATE SKIP LOCKED on
    PostgreSQL, so another instance skips them; SQLite serialises writers) and one marks them
    leased until `until`. The ids whose earlier lease ran out (whoever held it stopped
    half-way, perhaps after acting on the row) are added to `leased_before`."""
    leased_until = col(model.leased_until)  # type: ignore[attr-defined]
    ident = col(model.id)  # type: ignore[attr-defined]
    rows = session.exec(
        select(ident, leased_until)
        .where(*due, or_(leased_until.is_(None), leased_until < now))
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    ids = [int(i) for i, _ in rows]
    if leased_before is not None:
        leased_before.update(int(i) for i, before in rows if before is not None)
    if ids:
        session.execute(update(model).where(ident.in_(ids)).values(leased_until=until))
    return ids


@cache
def column_defaults(model: type[SQLModel]) -> Mapping[str, Any]:
    """Every column of `model`'s table but its key, with the field's default (None where it
    has none): the base of a row written with a bulk insert, where building the model object
    for each row would cost more than the insert. Read-only: copy it (`{**defaults, …}`)."""
    defaults: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "id":
            continue
        if info.default_factory is not None:
            defaults[name] = info.default_factory()  # type: ignore[call-arg]
        else:
            defaults[name] = None if info.is_required() else info.default
    return MappingProxyType(defaults)


def insert_many_once(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
) -> None:
    """Insert `rows` (column → value) in one statement, skipping each that would break the
    unique index on the `unique` columns. Through the table's column types, so every
    column's type (UTC datetimes, JSON, encryption …) applies as it does for one row."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        make = sqlite.insert if dialect == "sqlite" else postgresql.insert
        insert_rows(session, make(table).on_conflict_do_nothing(index_elements=list(unique)), rows)
        return
    for row in rows:  # pragma: no cover - SQLite and PostgreSQL are what Vangnet runs on
        try:
            with session.begin_nested():
                session.execute(insert(table).values(**row))
        except IntegrityError:
            pass


def insert_rows(
    session: Session, stmt: Insert | type[SQLModel], rows: Sequence[dict[str, Any]]
) -> None:
    """Run the INSERT `stmt` (or a plain one into `model`'s table) for every row of `rows`
    (column → value; every row with the same columns as the first) as one executemany.

    What `session.execute(stmt, rows)` does, without its bookkeeping per row: the statement
    is compiled once, and each value goes through its column type's bind processor (the
    same ones: encryption, UTC datetimes, JSON) straight into the driver's executemany. For
    tens of thousands of rows that bookkeeping took longer than the database.
    """
    if not rows:
        return
    if not isinstance(stmt, Insert):
        stmt = insert(stmt.__table__)  # type: ignore[attr-defined]
    connection = session.connection()
    dialect = connection.dialect
    keys = tuple(rows[0])
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    order = compiled.positiontup if compiled.positional else list(compiled.binds)
    table = stmt.table
    if (
        order is None
        or not isinstance(table, Table)
        or sorted(order) != sorted(keys)
        or any(table.c[key].key != key for key in keys)
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):  # pragma: no cover - a statement this shortcut does not know: the usual way
        session.execute(stmt, list(rows))
        return
    columns = [_values(table.c[key], [row[key] for row in rows], dialect) for key in order]
    params: list[Any]
    if compiled.positional:
        params = list(zip(*columns, strict=True))
    else:
        params = [dict(zip(order, values, strict=True)) for values in zip(*columns, strict=True)]
    connection.exec_driver_sql(compiled.string, params)


# Values whose bind processor gives the same for equal ones (of the same class; datetimes
# of the same zone): one repeated down a column (the same `now`, the same state) is
# processed once per statement. Not in an encrypted column: each value there is encrypted on
# its own, a fresh token every time.
_PLAIN = frozenset({str, int, bool, date, datetime, type(None)})


def _values(column: Column[Any], values: list[Any], dialect: Dialect) -> list[Any]:
    """`values` of `column` as SQLAlchemy hands them to the driver."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    if isinstance(column.type, Encrypted):
        return [process(value) for value in values]
    done: dict[Any, Any] = {}
    out = []
    for value in values:
        cls = value.__class__
        if cls not in _PLAIN:
            out.append(process(value))
            continue
        key = (cls, value, value.tzinfo) if cls is datetime else (cls, value)
        try:
            out.append(done[key])
        except KeyError:
            done[key] = processed = process(value)
            out.append(processed)
    return out
