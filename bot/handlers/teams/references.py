"""Where the Teams bot can write to, kept in `teams_conversation`: a person's personal chat
under "user:" + their Entra object id, a channel or group chat under "conv:" + its
conversation id. A reference is stored when the app is installed there (conversationUpdate,
installationUpdate) or someone writes there, and is what proactive messages (the outbox,
private answers to something said in a channel) are sent with. The user's display name is left
out of what is stored. Blocking: async callers run these in a worker thread."""

from __future__ import annotations

import json

from microsoft_agents.activity import Activity
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.core import clock
from bot.store.db import session_scope
from bot.store.models import TeamsConversation

USER = "user:"
CONVERSATION = "conv:"


def user_key(object_id: str) -> str:
    return USER + object_id.strip().casefold()


def conversation_key(conversation_id: str) -> str:
    return CONVERSATION + conversation_id


def channel_key(conversation_id: str) -> str:
    """A channel's or group chat's key, whichever of its threads the activity came from
    (";messageid=…" left out), as its place is named (`place_name`)."""
    return conversation_key(conversation_id.split(";", 1)[0])


def store(engine: Engine, key: str, reference_json: str) -> None:
    """Keep (or replace) the reference under `key`."""
    with session_scope(engine) as session:
        row = session.get(TeamsConversation, key)
        if row is None:
            row = TeamsConversation(key=key, reference=reference_json, updated_at=clock.now())
        elif row.reference == reference_json:
            return
        else:
            row.reference = reference_json
            row.updated_at = clock.now()
        session.add(row)


def stored(engine: Engine, key: str) -> str | None:
    """The reference under `key` (JSON), or None when the bot cannot write there yet."""
    with session_scope(engine, write=False) as session:
        row = session.get(TeamsConversation, key)
        return None if row is None else row.reference


def forget(engine: Engine, key: str) -> None:
    """The app was uninstalled there, or the conversation is gone."""
    with session_scope(engine) as session:
        row = session.get(TeamsConversation, key)
        if row is not None:
            session.delete(row)


def any_service_url(engine: Engine) -> str | None:
    """The service URL of the conversation written in last (the tenant's region of the Bot
    Connector), to open a personal chat with someone who never wrote to the bot."""
    with session_scope(engine, write=False) as session:
        row = session.exec(
            select(TeamsConversation).order_by(col(TeamsConversation.updated_at).desc())
        ).first()
    if row is None:
        return None
    url = json.loads(row.reference).get("serviceUrl")
    return url if isinstance(url, str) and url else None


def place_name(conversation_id: str) -> str:
    """A channel's or group chat's place name for the core (`common.places`)."""
    return "teams:" + conversation_id.split(";", 1)[0]


def reference_json(activity: Activity) -> str:
    """The activity's conversation reference as stored: without the user's display name."""
    reference = activity.get_conversation_reference()
    data = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(data.get("user"), dict):
        data["user"].pop("name", None)
    return json.dumps(data, sort_keys=True)


def is_personal(activity: Activity) -> bool:
    """A personal chat (1:1 with the bot), not a channel or group chat."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    return kind in (None, "personal")
