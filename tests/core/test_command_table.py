"""The command table is the only list: a command added as one row is a command everywhere.

The row below (`/echo`, for brokers, with a button of its own, allowed in groups) is added to
the table and to nothing else; /help, the role check of typing and pressing, Slack's slash
commands and its manifest check, Telegram's command lists and the terminal all see it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

from bot.core import commands
from bot.core.app import Core
from bot.core.commands import Command, Press
from bot.core.context import Ctx
from bot.core.directory import sync_region
from bot.core.replies import Reply
from bot.core.vocab import Role
from bot.handlers.common.who import who_by_id
from bot.handlers.slack.modals import SlackModals
from bot.handlers.telegram.commands import command_lists
from bot.handlers.terminal import TerminalChat
from bot.region import Region
from bot.store.db import session_scope
from tests.factories import one, press, say, text_of
from tests.handlers.slack import test_manifest
from tests.handlers.slack.conftest import running_slack, slack_settings
from tests.handlers.slack.factories import make_slash_command, signed_request
from tests.handlers.slack.fake_slack import FakeSlack, eventually
from tests.handlers.slack.scenario import nl
from tests.handlers.slack.scenario import text_of as slack_text


def _echo(ctx: Ctx, args: str) -> list[Reply]:
    return [Reply(text=f"echo {args}".strip())]


ECHO = Command(
    "echo",
    "/echo TEXT",
    "say the text back",
    frozenset({Role.broker}),
    _echo,
    buttons=(Press("echo"),),
    in_groups=True,
)


@pytest.fixture
def echo_row(monkeypatch: pytest.MonkeyPatch) -> Iterator[Command]:
    """The table with one row more, for this test only."""
    monkeypatch.setitem(commands.COMMANDS, ECHO.name, ECHO)
    yield ECHO


@pytest.fixture
def live_core(engine: Engine, region: Region) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


async def test_a_command_added_as_one_row_is_a_command_everywhere(
    echo_row: Command, live_core: Core
) -> None:
    core = live_core
    # /help: the broker reads it; the school contact does not
    assert "/echo TEXT — say the text back" in one(say(core, "wim", "/help")).lines
    assert not any("/echo" in line for line in one(say(core, "sara", "/help")).lines)
    # roles: typed and pressed, it is the broker's only
    assert one(say(core, "wim", "/echo hallo")).text == "echo hallo"
    assert one(press(core, "wim", "echo:hallo")).text == "echo hallo"
    not_hers = nl("/{name} is not for your role. Type /help.", name="echo")  # Sara: Dutch
    refused = one(say(core, "sara", "/echo hallo"))
    assert refused.error and not_hers in text_of(refused)
    pressed = one(press(core, "sara", "echo:hallo"))
    assert pressed.error and not_hers in text_of(pressed)
    wim = who_by_id(core.engine, "wim", core.default_language)
    assert wim is not None and "echo" in wim.commands

    # Telegram: in the menu of private chats and, as the row allows, of groups
    for command_list in command_lists():
        listed = [c.command for c in command_list.commands]
        assert isinstance(
            command_list.scope, BotCommandScopeAllPrivateChats | BotCommandScopeAllGroupChats
        )
        assert "echo" in listed, command_list.scope

    # the terminal
    out = io.StringIO()
    terminal = TerminalChat(core, io.StringIO(), out, interactive=False)
    for line in ("/as wim", "/echo hallo"):
        terminal.handle(line)
    assert "echo hallo" in out.getvalue()

    # Slack: the app listens to /echo (a command it did not register would get no answer)
    fake = await FakeSlack().start()
    try:
        async with (
            running_slack(core, slack_settings(fake)) as url,
            httpx.AsyncClient(timeout=10.0) as http,
        ):
            request = make_slash_command(
                "/echo hallo", user="U01WIM", response_url=fake.response_url("wim")
            )
            headers = {"Content-Type": request.content_type}
            headers.update(signed_request(request.body))
            answer = await http.post(
                f"{url}/slack/events", content=request.body.encode(), headers=headers
            )
            assert answer.status_code == 200
            await eventually(lambda: len(fake.responses("wim")) == 1)
            assert "echo hallo" in slack_text(fake.responses("wim")[0])
    finally:
        await fake.stop()
    # and the manifest check asks for the row in manifest.yml, which an admin pastes
    with pytest.raises(AssertionError):
        test_manifest.test_the_manifest_declares_every_command_scope_and_event()


def test_every_form_of_the_table_has_a_slack_modal(live_core: Core) -> None:
    """Which command shows which form is the row's; Slack only draws each form."""
    modals = SlackModals(live_core, None, None)  # type: ignore[arg-type]
    assert set(modals._openers) == set(commands.forms())
    assert commands.forms() == ["leaver", "leaver_edit", "placement", "admin_person_add"]
