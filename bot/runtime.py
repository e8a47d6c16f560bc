"""Putting the pieces together at start: region, database, directory, demo data."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine, text

from bot.config import Settings
from bot.core.app import Core
from bot.core.demo import load_demo_leavers
from bot.core.directory import seed_or_compare
from bot.core.i18n import Translator
from bot.region import Region
from bot.region.file import load_demo_region, load_region
from bot.store import crypto, secret_key
from bot.store.db import hold_start_lock, make_engine, session_scope, upgrade

log = logging.getLogger(__name__)


def load_configured_region(settings: Settings) -> Region:
    """The region file, or the bundled demo region. Raises RegionFileError on a bad file."""
    if settings.vangnet_region_file is None:
        return load_demo_region()
    return load_region(settings.vangnet_region_file)


def default_language(settings: Settings, region: Region) -> str:
    """The region file's language when it names one, else VANGNET_LANGUAGE."""
    if "language" in region.model_fields_set:
        return region.language
    return settings.vangnet_language


def open_database(
    settings: Settings, t: Translator, say: Callable[[str], None], *, migrate: bool = True
) -> Engine:
    """The database, reachable, with the keys of its personal data set up and checked (a
    wrong key is refused: secret_key.KeyRefused), migrated to the newest schema."""
    secret_key.check(settings, t)
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:  # an unreachable database is said before anything else
        conn.execute(text("SELECT 1"))
    notice = secret_key.install(settings, t)
    if notice:
        say(notice)
    try:
        crypto.check_key(engine)
        if migrate:
            upgrade(engine)
            with engine.begin() as conn:  # checked again, or written if someone removed it
                crypto.ensure_canary(conn)
    except crypto.WrongKey:
        raise secret_key.KeyRefused(
            t(
                "VANGNET_SECRET_KEY does not open this database: its personal data was "
                "encrypted with another key. Set the key it was made with; while rotating, "
                "give the new key first and the old one after it, separated by a comma."
            )
        ) from None
    return engine


def build_core(
    settings: Settings, t: Translator, say: Callable[[str], None], *, migrate: bool = True
) -> Core:
    region = load_configured_region(settings)
    engine = open_database(settings, t, say, migrate=migrate)
    core = Core(engine=engine, region=region, default_language=default_language(settings, region))
    # the database is the truth once seeded: a restart never undoes changes made in chat
    # (`vangnet run` says what applying the file would undo: bot.cli.support.region_notice)
    with session_scope(engine) as session:
        hold_start_lock(session)  # instances starting together seed one after the other
        seed_or_compare(session, region)
    if settings.uses_demo_region:
        with session_scope(engine) as session:
            hold_start_lock(session)
            added = load_demo_leavers(session, region, default_language=core.default_language)
        if added:
            log.info("demo region: %d fictional leavers loaded", added)
    return core
