"""The core's doors for async transports: each call runs in a worker thread (the core is
synchronous and each call is one unit of work on the database), as the person speaking."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.app import Core, FormOutcome
from bot.core.replies import Reply
from bot.handlers.common.who import Who


async def typed(
    core: Core,
    who: Who,
    text: str,
    *,
    transport: str,
    private: bool = True,
    place: str | None = None,
    arrived: datetime | None = None,
) -> list[Reply]:
    """A line `who` typed: a command, or an answer in their conversation; `place` is where
    (a channel or group), for what is shown to everyone there."""
    return await asyncio.to_thread(
        core.handle_text,
        person_id=who.id,
        actor=who.person,
        text=text,
        transport=transport,
        private=private,
        place=place,
        arrived=arrived,
    )


async def pressed(
    core: Core,
    who: Who,
    action: str,
    *,
    transport: str,
    private: bool = True,
    place: str | None = None,
    arrived: datetime | None = None,
) -> list[Reply]:
    """A button `who` pressed (in `place`, a channel or group, if given)."""
    return await asyncio.to_thread(
        core.handle_action,
        person_id=who.id,
        actor=who.person,
        action=action,
        transport=transport,
        private=private,
        place=place,
        arrived=arrived,
    )


async def submitted(
    core: Core,
    who: Who,
    form_name: str,
    values: Mapping[str, str],
    context: Mapping[str, Any],
    *,
    transport: str,
) -> FormOutcome:
    """A whole form `who` submitted at once (a platform's own form, like a Slack modal)."""
    return await asyncio.to_thread(
        core.submit_form,
        person_id=who.id,
        form_name=form_name,
        values=values,
        context=context,
        transport=transport,
    )
