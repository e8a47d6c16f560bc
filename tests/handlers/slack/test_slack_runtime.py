"""The rest of the Slack runtime: Socket Mode, a CSV sent by file, charts, health, pacing."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import select

from bot.config import Settings
from bot.core import clock
from bot.core.app import Core
from bot.core.i18n import translator
from bot.core.replies import Reply
from bot.handlers.common.dedupe import SeenEvents, SharedSeenEvents
from bot.handlers.common.pacing import Pacer
from bot.handlers.slack.app import SlackBot
from bot.handlers.slack.server import database_ok, serve
from bot.handlers.slack.services import SlackServices
from bot.store.db import make_engine, session_scope
from bot.store.models import SlackEvent
from tests.handlers.slack.conftest import SlackRig, free_port, running_slack, slack_settings
from tests.handlers.slack.factories import (
    SECRET,
    fixture,
    make_connect_file_dm,
    make_dm,
    make_file_dm,
    make_slash_command,
    signed_request,
)
from tests.handlers.slack.fake_slack import FakeSlack, eventually
from tests.handlers.slack.scenario import cases, month, nl, text_of


async def test_socket_mode_connects_through_the_configured_api_url(
    live_core: Core, fake: FakeSlack
) -> None:
    settings = slack_settings(fake, slack_app_token="xapp-test-token", slack_signing_secret=None)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(live_core, settings, stop=stop, host="127.0.0.1"))
    try:
        await asyncio.wait_for(fake.socket_connected.wait(), timeout=10)
        (opened,) = fake.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == "Bearer xapp-test-token"
        command = fixture("slash_command") | {
            "command": "/help",
            "text": "",
            "user_id": "U01WIM",
            "response_url": fake.response_url("socket"),
        }
        await fake.socket_envelopes.put(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": command,
            }
        )
        await eventually(lambda: any(a.get("envelope_id") == "env-1" for a in fake.socket_acks))
        await eventually(lambda: len(fake.responses("socket")) == 1)
        answer = fake.responses("socket")[0]
        assert answer.body["response_type"] == "ephemeral"
        assert "/claim REF" in str(answer.body["blocks"])
    finally:
        stop.set()
        await asyncio.wait_for(server, timeout=15)


def csv_of(*rows: str) -> bytes:
    return ("student_ref;home_municipality;programme;expected_exit\n" + "\n".join(rows)).encode()


async def test_a_csv_file_in_a_direct_message_is_downloaded_and_imported(slack: SlackRig) -> None:
    slack.fake.files["good.csv"] = csv_of(
        f"A-1;Zwolle;entree;{month(6)}", f"A-2;Kampen;entree;{month(8)}"
    )
    await slack.post(make_file_dm(slack.fake.file_url("good.csv"), user="U01TIM", name="good.csv"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    added = translator("nl").tn(
        "{n} leaver added, {updated} already known and updated.",
        "{n} leavers added, {updated} already known and updated.",
        2,
        updated=0,
    )
    assert added in json.dumps(slack.fake.posted("D01TIM")[0].body, ensure_ascii=False)
    assert sorted(c.student_ref for c in cases(slack.core)) == ["A-1", "A-2"]
    assert {c.school_id for c in cases(slack.core)} == {"vaart"}
    (download,) = slack.fake.calls_to("files.download")
    assert download.headers["Authorization"] == "Bearer xoxb-test-token"


async def test_a_csv_file_with_a_bad_row_imports_nothing_and_says_where(slack: SlackRig) -> None:
    slack.fake.files["bad.csv"] = csv_of(
        f"A-1;Zwolle;entree;{month(6)}", "A-2;Zwolle;entree;13-2027"
    )
    await slack.post(make_file_dm(slack.fake.file_url("bad.csv"), user="U01TIM", name="bad.csv"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    assert cases(slack.core) == []
    refused = html.unescape(json.dumps(slack.fake.posted("D01TIM")[0].body, ensure_ascii=False))
    assert nl("Nothing was imported") in refused
    why = nl(
        'I don\'t understand "{text}" as a month. Try for example 2027-06, 06-2027 or June 2027.',
        text="13-2027",
    )
    line = nl("line {line}", line=3)
    where = nl("{where}, {column}: {message}", where=line, column="expected_exit", message=why)
    assert json.dumps(where, ensure_ascii=False)[1:-1] in refused


async def test_a_file_from_a_broker_is_not_imported(slack: SlackRig) -> None:
    slack.fake.files["leerlingen.csv"] = csv_of(f"A-1;Zwolle;entree;{month(6)}")
    await slack.post(make_file_dm(slack.fake.file_url("leerlingen.csv"), user="U01WIM"))
    await eventually(lambda: len(slack.fake.posted("D01WIM")) == 1)
    refusal = nl("/{name} is not for your role. Type /help.", name="leaver")
    assert refusal in json.dumps(slack.fake.posted("D01WIM")[0].body, ensure_ascii=False)
    assert cases(slack.core) == [] and slack.fake.calls_to("files.download") == []


async def test_a_slack_connect_file_is_looked_up_with_files_info(slack: SlackRig) -> None:
    slack.fake.files["connect.csv"] = csv_of(f"A-1;Zwolle;entree;{month(6)}")
    slack.fake.file_infos["F0CONNECT"] = {
        "id": "F0CONNECT",
        "name": "leerlingen.csv",
        "filetype": "csv",
        "size": 60,
        "url_private": slack.fake.file_url("connect.csv"),
        "url_private_download": slack.fake.file_url("connect.csv"),
    }
    await slack.post(make_connect_file_dm("F0CONNECT", user="U01TIM"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    assert [c.student_ref for c in cases(slack.core)] == ["A-1"]
    (info,) = slack.fake.calls_to("files.info")
    assert info.body["file"] == "F0CONNECT"


async def test_a_slack_connect_file_slack_will_not_describe_is_not_dropped_silently(
    slack: SlackRig,
) -> None:
    await slack.post(make_connect_file_dm("F0GONE", user="U01TIM"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    told = json.dumps(slack.fake.posted("D01TIM")[0].body, ensure_ascii=False)
    no_access = nl(
        "I cannot open that file: Slack does not give me access to it. "
        "Save it on your computer and send it here again."
    )
    assert no_access in told
    assert cases(slack.core) == [] and slack.fake.calls_to("files.download") == []


@pytest.fixture
async def bot(live_core: Core, fake: FakeSlack) -> AsyncIterator[SlackBot]:
    services = await SlackServices.open()
    yield SlackBot(live_core, slack_settings(fake), services=services)
    await services.aclose()


async def test_a_file_link_to_another_host_gets_no_token_and_the_sender_is_told(
    slack: SlackRig,
) -> None:
    elsewhere = await FakeSlack().start()  # another host, as a payload could name
    try:
        elsewhere.files["leerlingen.csv"] = csv_of(f"A-1;Zwolle;entree;{month(6)}")
        await slack.post(make_file_dm(elsewhere.file_url("leerlingen.csv"), user="U01TIM"))
        await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
        told = json.dumps(slack.fake.posted("D01TIM")[0].body, ensure_ascii=False)
        assert nl("I can only read files stored in Slack. Send the file itself, here.") in told
        assert elsewhere.calls == []  # no request made, so no token sent
        assert cases(slack.core) == []
    finally:
        await elsewhere.stop()


@pytest.mark.parametrize(
    ("url", "gets_token"),
    [
        ("https://files.slack.com/files-pri/T0VANGNET-F0LEAVERS/download/l.csv", True),
        ("https://FILES.slack.com:443/files-pri/T0VANGNET-F0LEAVERS/l.csv", True),
        ("http://files.slack.com/files-pri/T0VANGNET-F0LEAVERS/l.csv", False),
        ("https://files.slack.com.evil.example/files-pri/l.csv", False),
        ("https://files.slack.com:8443/files-pri/l.csv", False),
        ("https://evil.example/files.slack.com/l.csv", False),
        ("https://user@evil.example/l.csv", False),
        ("not a url", False),
    ],
)
async def test_only_slacks_file_host_and_the_configured_api_host_get_the_token(
    bot: SlackBot, fake: FakeSlack, url: str, gets_token: bool
) -> None:
    assert bot.files.may_carry_token(url) is gets_token
    assert bot.files.may_carry_token(fake.file_url("x.csv")) is True  # SLACK_API_URL's host


async def test_a_chart_is_uploaded_with_the_files_upload_v2_flow(
    bot: SlackBot, fake: FakeSlack
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    await bot.send(
        "U01ANNA", Reply(title="Digest", text="week 48", image_png=png, image_title="Week 48")
    )
    methods = [c.method for c in fake.calls]
    assert methods == [
        "conversations.open",
        "chat.postMessage",
        "files.getUploadURLExternal",
        "files.upload",
        "files.completeUploadExternal",
    ]
    complete = fake.calls_to("files.completeUploadExternal")[0].body
    assert complete["channel_id"] == "D01ANNA"
    assert fake.calls_to("files.upload")[0].body["__raw__"] == png or png in fake.calls_to(
        "files.upload"
    )[0].body.get("__raw__", b"")
    await bot.send("U01ANNA", Reply(text="again"))
    assert len(fake.calls_to("conversations.open")) == 1  # the DM channel is remembered


async def test_starting_with_the_token_in_the_environment_logs_no_bolt_warning(
    live_core: Core,
    fake: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")  # how it is given in production
    settings = Settings(_env_file=None, slack_api_url=fake.api_url, port=free_port())
    settings = settings.model_copy(update={"slack_signing_secret": SecretStr(SECRET)})
    with caplog.at_level(logging.WARNING):
        async with running_slack(live_core, settings):
            pass
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert os.environ["SLACK_BOT_TOKEN"] == "xoxb-test-token"  # left as it was


def test_health_says_no_when_the_database_is_away(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/no/such/dir/vangnet.db")
    assert database_ok(engine) is False


def test_seen_events_are_bounded() -> None:
    seen = SeenEvents(size=2)
    assert [seen.first_time(e) for e in ("a", "b", "a", "c", "b", "a")] == [
        True,
        True,
        False,
        True,
        True,  # "b" was the oldest and was forgotten when "c" came
        True,  # and "a" when "b" came back
    ]


def test_an_event_id_is_taken_once_across_instances_and_old_ones_are_pruned(
    engine: Engine,
) -> None:
    first, second = SharedSeenEvents(engine), SharedSeenEvents(engine)
    assert first.first_time("Ev0A") is True
    assert second.first_time("Ev0A") is False  # another instance, the same database
    assert first.first_time("Ev0A") is False
    assert second.first_time("Ev0B") is True
    with session_scope(engine) as session:
        old = session.get(SlackEvent, "Ev0A")
        assert old is not None
        old.seen_at = clock.now() - timedelta(days=2)
    assert first.prune() == 1
    with session_scope(engine) as session:
        assert [e.event_id for e in session.exec(select(SlackEvent)).all()] == ["Ev0B"]
    assert second.first_time("Ev0A") is True  # forgotten after a day: Slack stopped retrying


async def test_two_instances_receiving_the_same_event_process_it_once(
    live_core: Core, fake: FakeSlack
) -> None:
    """Two Slack servers on one database (behind a load balancer): Slack's retry of an event
    reaches the other instance, even at the same moment, and is still processed once."""
    async with (
        running_slack(live_core, slack_settings(fake)) as one,
        running_slack(live_core, slack_settings(fake)) as two,
        httpx.AsyncClient(timeout=10.0) as http,
    ):

        async def post(url: str, body: str, retry: int = 0) -> int:
            headers = {"Content-Type": "application/json", **signed_request(body, SECRET)}
            if retry:
                headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"}
            response = await http.post(f"{url}/slack/events", content=body, headers=headers)
            return response.status_code

        dm = make_dm("hallo", user="U01TIM", event_id="Ev0TWICE01").body
        statuses = await asyncio.gather(post(one, dm), post(two, dm, retry=1))
        assert statuses == [200, 200]
        later = make_dm("hallo", user="U01WIM", event_id="Ev0TWICE02").body
        assert await post(one, later) == 200
        assert await post(two, later, retry=1) == 200
        assert await post(two, later, retry=2) == 200
        await eventually(
            lambda: len(fake.posted("D01TIM")) == 1 and len(fake.posted("D01WIM")) == 1
        )
        await asyncio.sleep(0.5)
    assert len(fake.posted("D01TIM")) == 1 and len(fake.posted("D01WIM")) == 1
    assert nl("Type /help to see what you can do.") in text_of(fake.posted("D01TIM")[0])
    with session_scope(live_core.engine) as session:
        seen = {e.event_id for e in session.exec(select(SlackEvent)).all()}
    assert {"Ev0TWICE01", "Ev0TWICE02"} <= seen


async def test_the_pacer_spaces_messages_per_channel() -> None:
    pacer = Pacer(interval=0.2)
    starts: dict[str, list[float]] = {"D1": [], "D2": []}

    async def send(channel: str) -> None:
        async with pacer.slot(channel):
            starts[channel].append(time.monotonic())

    await asyncio.gather(*(send(c) for c in ["D1", "D1", "D1", "D2", "D2"]))
    for channel, times in starts.items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(g >= 0.19 for g in gaps), (channel, gaps)
    assert abs(starts["D1"][0] - starts["D2"][0]) < 0.1  # channels do not wait for each other


async def test_a_personal_reply_is_never_posted_in_a_channel_but_in_the_direct_message(
    bot: SlackBot, fake: FakeSlack
) -> None:
    card = Reply(title="Casus K7F2", text="Jan Jansen, 06-12345678", personal=True)
    count = Reply(text="3 casussen wachten op een makelaar.")
    await bot.sender.post("C01GENERAL", [count, card], user="U01ANNA", t=translator("nl"))
    in_channel = " ".join(text_of(c) for c in fake.posted("C01GENERAL"))
    assert "3 casussen" in in_channel
    assert nl("I sent you the details in a private message.") in in_channel
    assert "Jan Jansen" not in in_channel
    (private,) = fake.posted("D01ANNA")
    assert "Jan Jansen, 06-12345678" in text_of(private)


async def test_a_message_sent_just_before_a_crash_is_found_in_the_dm_not_sent_again(
    live_core: Core, fake: FakeSlack, bot: SlackBot
) -> None:
    """Issue 14 item 1: process A posted the card and died before recording it; process B,
    once A's lease ran out, finds it by the outbox id in its metadata and only records it."""
    from bot.core.messaging.delivery import SENDING, deliver_pending, lease_pending
    from bot.core.messaging.outbox import reply_of
    from bot.store.models import OutboxMessage
    from tests.handlers.slack.scenario import early_leaver

    early_leaver(live_core, school="vlinder", by="mila")  # a card for Bram
    with session_scope(live_core.engine) as session:  # process A leases it …
        (message,) = lease_pending(session, person_ids=["bram"], limit=10)
        message_id, reply = int(message.id or 0), reply_of(message)
    token = SENDING.set(message_id)
    try:
        await bot.send("U01BRAM", reply)  # … posts it, and dies before recording it
    finally:
        SENDING.reset(token)
    with session_scope(live_core.engine) as session:  # A's lease runs out
        row = session.get(OutboxMessage, message_id)
        assert row is not None and row.sent_at is None
        row.leased_until = clock.now() - timedelta(seconds=1)
        session.add(row)
    sent = await deliver_pending(  # process B
        live_core.engine,
        via="slack",
        address_of=lambda p: p.slack_id,
        send=bot.send,
        edit=bot.edit,
        find_sent=bot.find_sent,
    )
    assert sent == 1 and len(fake.posted("D01BRAM")) == 1  # found, not posted twice
    with session_scope(live_core.engine) as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None and row.sent_at is not None
        assert row.platform_ref is not None and row.platform_ref.startswith("D01BRAM:")
    metadata = fake.posted("D01BRAM")[0].body["metadata"]
    assert metadata == {"event_type": "vangnet_outbox", "event_payload": {"outbox_id": message_id}}


async def test_a_stop_finishes_the_work_behind_an_acknowledged_command(
    live_core: Core, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 24 item 3: a command acknowledged just before a deploy's SIGTERM is answered
    before the process exits (Slack's retry of it would be refused as a replay)."""
    handle_text = live_core.handle_text
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow(**kwargs: Any) -> list[Reply]:
        loop.call_soon_threadsafe(started.set)
        time.sleep(1.0)  # the command's work, under way when the stop comes
        return handle_text(**kwargs)

    monkeypatch.setattr(live_core, "handle_text", slow)
    url = fake.response_url("deploy")
    async with (
        running_slack(live_core, slack_settings(fake)) as base,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        rig = SlackRig(core=live_core, fake=fake, url=base, http=http)
        response = await rig.post(make_slash_command("/help", user="U01WIM", response_url=url))
        assert response.status_code == 200
        await asyncio.wait_for(started.wait(), timeout=5)
    # the server has stopped: the answer went out before it did
    assert len(fake.responses("deploy")) == 1
