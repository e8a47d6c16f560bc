"""Putting the pieces together at start: region, database, directory, demo data."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.core.app import Core
from bot.core.demo import load_demo_leavers
from bot.core.directory import seed_or_compare
from bot.region import Region
from bot.region_file import load_demo_region, load_region
from bot.store.db import make_engine, session_scope, upgrade

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


def build_core(settings: Settings, *, migrate: bool = True) -> Core:
    region = load_configured_region(settings)
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    core = Core(engine=engine, region=region, default_language=default_language(settings, region))
    with session_scope(engine) as session:
        differs = seed_or_compare(session, region)
    if differs:
        # the database is the truth once seeded: a restart never undoes changes made in chat
        log.warning(
            "the region file differs from the directory in the database (%s); the database "
            "is kept. To apply the file: vangnet region apply FILE --dry-run, then without "
            "--dry-run",
            differs.counts(),
        )
    if settings.uses_demo_region:
        with session_scope(engine) as session:
            added = load_demo_leavers(session, region, default_language=core.default_language)
        if added:
            log.info("demo region: %d fictional leavers loaded", added)
    return core
