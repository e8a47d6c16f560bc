"""End to end over HTTP: signed Slack requests into the real slack-bolt app, a fake Slack
Web API on 127.0.0.1 recording what Vangnet answers."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import logging
import time

import pytest

from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from tests.factories import trail
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import (
    make_block_action,
    make_dm,
    make_home_opened,
    make_slash_command,
    make_view_submission,
)
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import (
    REFUSAL,
    buttons_of,
    case_row,
    cases,
    confirm_of,
    early_leaver,
    month,
    nl,
    outbox,
    text_of,
)


async def test_help_is_answered_ephemerally_within_three_seconds(slack: SlackRig) -> None:
    url = slack.fake.response_url("help")
    started = time.monotonic()
    response = await slack.post(make_slash_command("/help", user="U01WIM", response_url=url))
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    await eventually(lambda: len(slack.fake.responses("help")) == 1)
    (answer,) = slack.fake.responses("help")
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["replace_original"] is False
    assert "/claim REF" in text_of(answer)
    assert not slack.fake.invalid


async def test_someone_not_in_the_directory_gets_a_polite_refusal(slack: SlackRig) -> None:
    url = slack.fake.response_url("stranger")
    await slack.post(make_slash_command("/cases", user="U0STRANGER", response_url=url))
    await eventually(lambda: len(slack.fake.responses("stranger")) == 1)
    (answer,) = slack.fake.responses("stranger")
    assert answer.body["response_type"] == "ephemeral"
    assert nl(REFUSAL) in text_of(answer)


async def test_the_intake_modal_shows_field_errors_then_saves(slack: SlackRig) -> None:
    await slack.post(
        make_slash_command("/leaver", user="U01TIM", channel="C0NETWERK", trigger_id="trig-tim")
    )
    await eventually(lambda: len(slack.fake.calls_to("views.open")) == 1)
    (opened,) = slack.fake.calls_to("views.open")
    assert opened.body["trigger_id"] == "trig-tim"
    view = opened.body["view"]
    assert view["callback_id"] == "leaver"
    assert slack.fake.calls_to("respond") == []  # the modal, no answer in the channel

    answers = {
        "student_ref": "JB-17",
        "home_municipality": "Zwolle",
        "programme": "entree",
        "expected_exit": "13-2027",
    }
    bad = await slack.post(make_view_submission(view, answers, user="U01TIM"))
    assert bad.status_code == 200
    assert bad.json()["response_action"] == "errors"
    assert set(bad.json()["errors"]) == {"expected_exit"}
    assert bad.json()["errors"]["expected_exit"] == nl(
        'I don\'t understand "{text}" as a month. Try for example 2027-06, 06-2027 or June 2027.',
        text="13-2027",
    )
    assert cases(slack.core) == []

    unknown = await slack.post(
        make_view_submission(
            view, answers | {"expected_exit": month(6), "home_municipality": "Zwole"}, user="U01TIM"
        )
    )
    assert unknown.json()["errors"] == {
        "home_municipality": nl(
            "I don't know {text} as a Dutch municipality or place. Did you mean: {names}?",
            text="Zwole",
            names="Zwolle",
        )
    }
    assert cases(slack.core) == []

    good = await slack.post(
        make_view_submission(view, answers | {"expected_exit": month(6)}, user="U01TIM")
    )
    assert good.status_code == 200 and good.text == ""  # the modal closes
    (case,) = cases(slack.core)
    assert (case.student_ref, case.school_id, case.programme) == ("JB-17", "vaart", "entree")
    assert case.registered_by == "tim"
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    (confirmation,) = slack.fake.posted("D01TIM")
    thanks = nl("Thank you. {student} is registered as case {ref}.", student="JB-17", ref=case.ref)
    assert thanks in text_of(confirmation)
    assert slack.fake.calls_to("conversations.open")[0].body["users"] == "U01TIM"
    assert not slack.fake.invalid


RICH_TEXT = {
    "type": "rich_text_input",
    "rich_text_value": {
        "type": "rich_text",
        "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "Needs help"}]}
        ],
    },
}


async def test_an_input_the_bot_cannot_read_gets_an_error_on_its_block(slack: SlackRig) -> None:
    await slack.post(make_slash_command("/leaver", user="U01MILA", trigger_id="trig-mila"))
    await eventually(lambda: len(slack.fake.calls_to("views.open")) == 1)
    view = slack.fake.calls_to("views.open")[0].body["view"]
    answers = {
        "student_ref": "VB-1",
        "home_municipality": "Kampen",
        "programme": "vso",
        "vso_profile": "work",
        "expected_exit": month(6),
    }
    response = await slack.post(
        make_view_submission(view, answers, user="U01MILA", states={"notes": RICH_TEXT})
    )
    assert response.status_code == 200
    assert response.json() == {  # Mila reads English
        "response_action": "errors",
        "errors": {"notes": "I cannot read this field."},
    }
    assert cases(slack.core) == []


async def test_a_broker_gets_the_leaver_command_refused_not_a_modal(slack: SlackRig) -> None:
    url = slack.fake.response_url("broker")
    await slack.post(make_slash_command("/leaver", user="U01WIM", response_url=url))
    await eventually(lambda: len(slack.fake.responses("broker")) == 1)
    refusal = nl("/{name} is not for your role. Type /help.", name="leaver")
    assert refusal in text_of(slack.fake.responses("broker")[0])
    assert slack.fake.calls_to("views.open") == []


async def test_handover_ping_claim_and_the_school_is_told(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila")
    await eventually(lambda: len(slack.fake.posted("D01BRAM")) == 1)
    (ping,) = slack.fake.posted("D01BRAM")
    assert "Urgent: an early leaver needs a broker now." in text_of(ping)
    buttons = buttons_of(ping)
    assert f"claim:{case.ref}" in buttons
    # the post is seen before the delivery loop records it as sent: wait for the record
    await eventually(lambda: outbox(slack.core, "bram")[0].sent_at is not None)
    (row,) = outbox(slack.core, "bram")
    assert row.sent_via == "slack"

    response = await slack.post(
        make_block_action(
            f"claim:{case.ref}",
            user="U01BRAM",
            channel="D01BRAM",
            response_url=slack.fake.response_url("claim"),
            action_id=buttons[f"claim:{case.ref}"],
        )
    )
    assert response.status_code == 200
    await eventually(lambda: len(slack.fake.posted("D01BRAM")) == 2)
    assert f"You now own case {case.ref}." in text_of(slack.fake.posted("D01BRAM")[1])
    assert case_row(slack.core, case.ref).owner_id == "bram"
    await eventually(lambda: len(slack.fake.posted("D01MILA")) == 1)
    told = text_of(slack.fake.posted("D01MILA")[0])
    assert f"Case {case.ref} ({case.student_ref}) was taken over by Bram Bakker (Kampen)." in told
    assert not slack.fake.invalid


async def test_a_claim_on_the_card_edits_that_card_once(slack: SlackRig) -> None:
    """Issue 26 item 2: one refresh of the claimed card (the outbox's), as on Telegram."""
    case = early_leaver(slack.core, school="vlinder", by="mila")
    await eventually(lambda: all(r.platform_ref for r in outbox(slack.core, "bram")))
    (card,) = outbox(slack.core, "bram")
    await slack.post(
        make_block_action(
            f"claim:{case.ref}",
            user="U01BRAM",
            channel="D01BRAM",
            action_id=buttons_of(slack.fake.posted("D01BRAM")[0])[f"claim:{case.ref}"],
        )
    )
    await eventually(lambda: len(slack.fake.posted("D01BRAM")) == 2)
    await eventually(
        lambda: (
            any(r.kind == "edit" for r in outbox(slack.core, "bram"))
            and all(r.sent_at is not None for r in outbox(slack.core, "bram"))
        )
    )
    edits = [
        c
        for c in slack.fake.calls_to("chat.update")
        if f"{c.body['channel']}:{c.body['ts']}" == card.platform_ref
    ]
    assert len(edits) == 1
    assert f"claim:{case.ref}" not in buttons_of(edits[0])


async def test_a_button_in_a_direct_message_between_two_people_is_answered_ephemerally(
    slack: SlackRig,
) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila")
    slack.fake.foreign_dms.add("D0BRAMWIM")  # Bram's DM with Wim: the bot is not in it
    url = slack.fake.response_url("case")
    await slack.post(
        make_slash_command(
            f"/case {case.ref}", user="U01BRAM", channel="D0BRAMWIM", response_url=url
        )
    )
    await eventually(lambda: len(slack.fake.responses("case")) == 1)
    buttons = buttons_of(slack.fake.responses("case")[0])
    assert f"claim:{case.ref}" in buttons
    pressed = slack.fake.response_url("pressed")
    await slack.post(
        make_block_action(
            f"claim:{case.ref}",
            user="U01BRAM",
            channel="D0BRAMWIM",
            response_url=pressed,
            action_id=buttons[f"claim:{case.ref}"],
            ephemeral=True,
        )
    )
    await eventually(
        lambda: len(slack.fake.responses("pressed")) == 1 or any(c.error for c in slack.fake.calls)
    )
    assert [c.error for c in slack.fake.calls if c.error] == []  # nothing tried in that DM
    (answer,) = slack.fake.responses("pressed")
    assert answer.body["response_type"] == "ephemeral"
    assert f"You now own case {case.ref}." in text_of(answer)  # Bram reads English


async def test_two_brokers_claiming_at_once_leaves_one_owner(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vaart", by="tim")
    await eventually(
        lambda: len(slack.fake.posted("D01WIM")) == 1 and len(slack.fake.posted("D01FATIMA")) == 1
    )
    presses = [
        make_block_action(f"claim:{case.ref}", user=user, channel="D" + user[1:])
        for user in ("U01WIM", "U01FATIMA")
    ]
    responses = await asyncio.gather(*(slack.post(p) for p in presses))
    assert [r.status_code for r in responses] == [200, 200]
    await eventually(
        lambda: len(slack.fake.posted("D01WIM")) == 2 and len(slack.fake.posted("D01FATIMA")) == 2
    )
    owner = case_row(slack.core, case.ref).owner_id
    assert owner in ("wim", "fatima")
    winner, loser = ("D01WIM", "D01FATIMA") if owner == "wim" else ("D01FATIMA", "D01WIM")
    owner_name = "Wim Jansen" if owner == "wim" else "Fatima El Amrani"
    assert nl("You now own case {ref}.", ref=case.ref) in text_of(slack.fake.posted(winner)[1])
    taken = nl("Case {ref} is already claimed by {name}.", ref=case.ref, name=owner_name)
    assert taken in text_of(slack.fake.posted(loser)[1])
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    await asyncio.sleep(0.5)  # and no second "taken over"
    assert len(slack.fake.posted("D01TIM")) == 1


async def test_after_a_claim_the_other_brokers_card_says_who_has_it(slack: SlackRig) -> None:
    """Issue 8 item 17: chat.update on the cards sent before, no Claim button left."""
    case = early_leaver(slack.core, school="vaart", by="tim")
    await eventually(
        lambda: len(slack.fake.posted("D01WIM")) == 1 and len(slack.fake.posted("D01FATIMA")) == 1
    )
    await eventually(lambda: all(r.platform_ref for r in outbox(slack.core, "fatima")))
    (card,) = outbox(slack.core, "fatima")
    await slack.post(make_block_action(f"claim:{case.ref}", user="U01WIM", channel="D01WIM"))
    await eventually(lambda: len(slack.fake.calls_to("chat.update")) == 2)
    updates = {c.body["channel"]: c for c in slack.fake.calls_to("chat.update")}
    fatimas = updates["D01FATIMA"]
    assert f"D01FATIMA:{fatimas.body['ts']}" == card.platform_ref  # the card she was sent
    assert nl("{name} has taken case {ref}.", name="Wim Jansen", ref=case.ref) in text_of(fatimas)
    assert f"claim:{case.ref}" not in buttons_of(fatimas)
    assert f"placed:{case.ref}" in buttons_of(updates["D01WIM"])
    assert len(slack.fake.posted("D01FATIMA")) == 1  # edited, not a new message
    assert not slack.fake.invalid


async def test_a_transfer_by_slash_command(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila")
    slack.core.handle_text(person_id="bram", text=f"/claim {case.ref}", transport="slack")
    url = slack.fake.response_url("transfer")
    await slack.post(
        make_slash_command(
            f"/transfer {case.ref} Zwolle moved to Zwolle & <Dalfsen>",
            user="U01BRAM",
            response_url=url,
        )
    )
    await eventually(lambda: len(slack.fake.responses("transfer")) == 1)
    answer = text_of(slack.fake.responses("transfer")[0])
    assert f"Case {case.ref} is transferred to Zwolle" in answer
    row = case_row(slack.core, case.ref)
    assert (row.state, row.responsible_municipality_code, row.owner_id) == ("due", "GM0193", None)
    await eventually(
        lambda: len(slack.fake.posted("D01WIM")) == 1 and len(slack.fake.posted("D01FATIMA")) == 1
    )
    ping = text_of(slack.fake.posted("D01WIM")[0])
    assert nl("{name} transferred case {ref} to you.", name="Bram Bakker", ref=case.ref) in ping
    # typed once, shown once: escaped for Slack on the way out, decoded on the way in
    assert nl("Reason: {reason}", reason="moved to Zwolle &amp; &lt;Dalfsen&gt;") in ping
    assert "&amp;amp;" not in ping and "&amp;lt;" not in ping
    await eventually(
        lambda: any("was transferred to Zwolle" in text_of(c) for c in slack.fake.posted("D01MILA"))
    )


async def test_slackbot_in_the_direct_message_gets_no_answer(
    slack: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.handlers.slack.inbound")
    reminder = make_dm("Reminder: fill in the leavers.", user="USLACKBOT", channel="D01TIM")
    assert (await slack.post(reminder)).status_code == 200
    await eventually(
        lambda: "unsupported message (from Slackbot)" in caplog.text or bool(slack.fake.posted())
    )
    assert slack.fake.posted() == []  # no "you are not in the directory"


INJECTION = "<!channel> <@U123> <b>"


async def test_injection_texts_are_escaped_in_what_is_posted(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila", student_ref=INJECTION)
    await eventually(lambda: len(slack.fake.posted("D01BRAM")) == 1)
    url = slack.fake.response_url("case")
    await slack.post(make_slash_command(f"/case {case.ref}", user="U01BRAM", response_url=url))
    await eventually(lambda: len(slack.fake.responses("case")) == 1)
    shown = [slack.fake.posted("D01BRAM")[0], slack.fake.responses("case")[0]]
    for call in shown:
        raw = json.dumps(call.body)
        for bad in ("<!channel>", "<@U123>", "<b>"):
            assert bad not in raw
        assert "&lt;!channel&gt; &lt;@U123&gt; &lt;b&gt;" in raw
    assert not slack.fake.invalid


async def test_bad_signatures_and_old_timestamps_get_401_and_change_nothing(
    slack: SlackRig,
) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila")
    await eventually(lambda: len(slack.fake.posted("D01BRAM")) == 1)
    calls_before = len(slack.fake.calls)
    claim = make_slash_command(
        f"/claim {case.ref}", user="U01BRAM", response_url=slack.fake.response_url("forged")
    )
    press = make_block_action(f"claim:{case.ref}", user="U01BRAM", channel="D01BRAM")
    attempts = [
        await slack.post(claim, secret="not-the-secret"),
        await slack.post(press, secret="not-the-secret"),
        await slack.post(claim, timestamp=int(time.time()) - 6 * 60),
        await slack.post(claim, signed=False),
        await slack.post(
            claim,
            headers={"X-Slack-Signature": "v0=" + "0" * 64},
        ),
    ]
    assert [r.status_code for r in attempts] == [401] * 5
    await asyncio.sleep(0.3)
    row = case_row(slack.core, case.ref)
    assert (row.state, row.owner_id) == ("due", None)
    assert len(slack.fake.calls) == calls_before  # nothing answered, nothing sent
    ok = await slack.post(claim, timestamp=int(time.time()) - 4 * 60)  # within five minutes
    assert ok.status_code == 200
    await eventually(lambda: case_row(slack.core, case.ref).owner_id == "bram")


async def test_a_retried_event_is_processed_once(slack: SlackRig) -> None:
    dm = make_dm("hallo", user="U01TIM", event_id="Ev0RETRY01")
    first = await slack.post(dm)
    again = await slack.post(
        dm, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert (first.status_code, again.status_code) == (200, 200)
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    assert nl("Type /help to see what you can do.") in text_of(slack.fake.posted("D01TIM")[0])
    home = make_home_opened("U01WIM", event_id="Ev0RETRY02")
    await slack.post(home)
    await slack.post(home, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "timeout"})
    await eventually(lambda: len(slack.fake.calls_to("views.publish")) == 1)
    await asyncio.sleep(0.5)
    assert len(slack.fake.posted("D01TIM")) == 1
    assert len(slack.fake.calls_to("views.publish")) == 1


async def test_a_429_storm_delays_messages_but_loses_and_doubles_none(slack: SlackRig) -> None:
    slack.fake.fail("chat.postMessage", 429, times=3)
    made = [early_leaver(slack.core, school="vlinder", by="mila") for _ in range(3)]
    await eventually(
        lambda: (
            all(m.sent_at is not None for m in outbox(slack.core, "bram"))
            and len(outbox(slack.core, "bram")) == 3
        ),
        timeout=20,
    )
    limited = [c for c in slack.fake.calls_to("chat.postMessage", ok_only=False) if c.status == 429]
    assert len(limited) == 3
    posted = slack.fake.posted("D01BRAM")
    assert len(posted) == 3
    refs = sorted(
        next(v.split(":")[1] for v in buttons_of(c) if v.startswith("claim:")) for c in posted
    )
    assert refs == sorted(c.ref for c in made)
    gaps = [b.at - a.at for a, b in itertools.pairwise(posted)]
    assert all(gap >= 0.9 for gap in gaps), gaps  # one message per second per channel
    for row in outbox(slack.core, "bram"):
        assert row.attempts == 0  # retried by the client, within the send


async def test_a_failed_send_is_retried_later_by_the_outbox(slack: SlackRig) -> None:
    slack.fake.fail("chat.postMessage", 500, times=1)
    case = early_leaver(slack.core, school="vlinder", by="mila")
    await eventually(lambda: outbox(slack.core, "bram")[0].attempts == 1)
    (row,) = outbox(slack.core, "bram")
    assert row.sent_at is None and row.last_error
    assert slack.fake.posted("D01BRAM") == []
    with session_scope(slack.core.engine) as session:  # the back-off has passed
        pending = session.get(OutboxMessage, row.id)
        assert pending is not None
        pending.not_before = pending.created_at
    await eventually(lambda: outbox(slack.core, "bram")[0].sent_at is not None)
    (posted,) = slack.fake.posted("D01BRAM")
    assert f"claim:{case.ref}" in buttons_of(posted)


async def test_the_app_home_shows_a_brokers_queue_and_its_buttons_work(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vaart", by="tim")
    await slack.post(make_home_opened("U01WIM"))
    await eventually(lambda: len(slack.fake.calls_to("views.publish")) == 1)
    (published,) = slack.fake.calls_to("views.publish")
    assert published.body["user_id"] == "U01WIM"
    view = published.body["view"]
    assert view["type"] == "home"
    shown = json.dumps(view, ensure_ascii=False)
    assert nl("Your queue") in shown and case.ref in shown
    actions = {
        e["value"]: e["action_id"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }
    await slack.post(
        make_block_action(f"case:{case.ref}", user="U01WIM", action_id=actions[f"case:{case.ref}"])
    )
    # a button in the App Home has no conversation: the card goes to the direct message
    await eventually(
        lambda: any(
            nl("Case {ref}", ref=case.ref) in text_of(c) for c in slack.fake.posted("D01WIM")
        )
    )


async def test_the_app_home_of_a_school_contact_and_of_a_stranger(slack: SlackRig) -> None:
    early_leaver(slack.core, school="vlinder", by="mila")
    await slack.post(make_home_opened("U01MILA"))
    await slack.post(make_home_opened("U0STRANGER"))
    await eventually(lambda: len(slack.fake.calls_to("views.publish")) == 2)
    views = {
        c.body["user_id"]: json.dumps(c.body["view"], ensure_ascii=False)
        for c in slack.fake.calls_to("views.publish")
    }
    assert "Leavers in your view" in views["U01MILA"]
    assert nl(REFUSAL) in views["U0STRANGER"]


async def test_the_guided_intake_in_a_direct_message(slack: SlackRig) -> None:
    # `/leaver chat`, typed anywhere, starts the conversation in the direct message
    await slack.post(make_slash_command("/leaver chat", user="U01TIM", channel="C0NETWERK"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    assert slack.fake.calls_to("views.open") == []
    answers = ["JB-18", "Zwolle", "entree", "no", month(6), "2009", "work", "refused"]
    for n, text in enumerate(answers, start=2):
        await slack.post(make_dm(text, user="U01TIM"))
        await eventually(lambda n=n: len(slack.fake.posted("D01TIM")) == n)
    assert nl("Is this right?") in text_of(slack.fake.posted("D01TIM")[-1])
    summary = slack.fake.posted("D01TIM")[-1]
    await slack.post(
        make_block_action(
            confirm_of(summary)[0],
            user="U01TIM",
            channel="D01TIM",
            action_id=confirm_of(summary)[1],
        )
    )
    await eventually(lambda: len(cases(slack.core)) == 1)
    assert cases(slack.core)[0].student_ref == "JB-18"


async def test_metrics_and_health(slack: SlackRig) -> None:
    await slack.post(
        make_slash_command("/help", user="U01WIM", response_url=slack.fake.response_url("m"))
    )
    await eventually(lambda: len(slack.fake.responses("m")) == 1)
    health = await slack.http.get(f"{slack.url}/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    metrics = (await slack.http.get(f"{slack.url}/metrics")).text
    assert 'vangnet_slack_commands_total{kind="command:/help"} 1.0' in metrics
    assert "vangnet_slack_messages_sent_total 1.0" in metrics
    # what the start made is kept out of the full garbage collections (they stopped the
    # event loop for up to 100 ms while requests waited for their acknowledgement)
    assert gc.get_freeze_count() > 0


async def test_the_digest_is_ephemeral_and_its_chart_goes_to_the_direct_message(
    slack: SlackRig,
) -> None:
    early_leaver(slack.core, school="vaart", by="tim")
    url = slack.fake.response_url("digest")
    await slack.post(make_slash_command("/digest", user="U01ANNA", response_url=url))
    await eventually(lambda: len(slack.fake.responses("digest")) == 1)
    digest = slack.fake.responses("digest")[0]
    assert digest.body["blocks"][0]["type"] == "header"
    assert "Regio Zwolle (demo)" in text_of(digest)
    await eventually(lambda: len(slack.fake.calls_to("files.completeUploadExternal")) == 1)
    (complete,) = slack.fake.calls_to("files.completeUploadExternal")
    assert complete.body["channel_id"] == "D01ANNA"
    (upload,) = slack.fake.calls_to("files.upload")
    assert upload.body["__raw__"].startswith(b"\x89PNG")


async def test_the_modal_speaks_the_language_of_the_person(slack: SlackRig) -> None:
    await slack.post(make_slash_command("/leaver", user="U01MILA", trigger_id="trig-mila"))
    await slack.post(make_slash_command("/leaver", user="U01TIM", trigger_id="trig-tim"))
    await eventually(lambda: len(slack.fake.calls_to("views.open")) == 2)
    views = {c.body["trigger_id"]: c.body["view"] for c in slack.fake.calls_to("views.open")}
    labels = {t: {b["block_id"]: b["label"]["text"] for b in v["blocks"]} for t, v in views.items()}
    assert labels["trig-mila"]["home_municipality"] == "Home municipality"
    assert labels["trig-tim"]["home_municipality"] == nl("Home municipality")
    answers = {
        "student_ref": "VB-1",
        "home_municipality": "Kampen",
        "programme": "vso",
        "expected_exit": month(6),
    }
    bad = await slack.post(make_view_submission(views["trig-mila"], answers, user="U01MILA"))
    assert bad.json() == {
        "response_action": "errors",
        "errors": {"vso_profile": "A VSO leaver needs a profile."},
    }
    assert cases(slack.core) == []


async def test_a_placement_started_in_a_channel_continues_in_the_direct_message(
    slack: SlackRig,
) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila")
    slack.core.handle_text(person_id="bram", text=f"/claim {case.ref}", transport="slack")
    url = slack.fake.response_url("placed")
    # `/placed REF chat`: the guided conversation instead of the modal
    await slack.post(
        make_slash_command(f"/placed {case.ref} chat", user="U01BRAM", response_url=url)
    )
    await eventually(
        lambda: any(
            v.startswith("form:") for c in slack.fake.posted("D01BRAM") for v in buttons_of(c)
        )
    )
    assert slack.fake.responses("placed") == []
    assert slack.fake.calls_to("views.open") == []
    questions = ["Which employer, school or organisation?", "From which date?", "Is this right?"]
    for answer, next_question in zip(
        ["work", "Bakkerij De Korf & Zn", "today"], questions, strict=True
    ):
        await slack.post(make_dm(answer, user="U01BRAM"))
        await eventually(
            lambda q=next_question: any(q in text_of(c) for c in slack.fake.posted("D01BRAM"))
        )
    summary = next(c for c in slack.fake.posted("D01BRAM") if "Is this right?" in text_of(c))
    await slack.post(
        make_block_action(
            confirm_of(summary)[0],
            user="U01BRAM",
            channel="D01BRAM",
            action_id=confirm_of(summary)[1],
        )
    )
    await eventually(lambda: case_row(slack.core, case.ref).state == "placed")
    row = case_row(slack.core, case.ref)
    assert (row.destination, row.placement_org) == ("work", "Bakkerij De Korf & Zn")
    await slack.post(make_slash_command("/placed NOPE", user="U01BRAM", response_url=url))
    await eventually(lambda: len(slack.fake.responses("placed")) == 1)  # a refusal stays ephemeral


async def test_while_the_database_is_away_every_request_is_answered_in_dutch(
    slack: SlackRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 3: acknowledged, and told to try again in a minute, not a 404."""
    from sqlalchemy.exc import OperationalError

    from bot.handlers.slack import app as slack_app

    def away(*_args: object) -> None:
        raise OperationalError("SELECT person", {}, Exception("connection refused"))

    monkeypatch.setattr(slack_app, "who_by_slack", away)
    command = slack.fake.response_url("away-command")
    response = await slack.post(make_slash_command("/cases", user="U01WIM", response_url=command))
    assert response.status_code == 200
    pressed = slack.fake.response_url("away-button")
    response = await slack.post(
        make_block_action("cases:1", user="U01WIM", channel="C0CHAN", response_url=pressed)
    )
    assert response.status_code == 200
    await eventually(
        lambda: (
            len(slack.fake.responses("away-command")) == 1
            and len(slack.fake.responses("away-button")) == 1
        )
    )
    said = nl("Vangnet cannot reach its data right now. Please try again in a minute.")
    assert said != "Vangnet cannot reach its data right now. Please try again in a minute."
    for name in ("away-command", "away-button"):
        (answer,) = slack.fake.responses(name)
        assert said in text_of(answer) and answer.body["response_type"] == "ephemeral"


def _signed_bytes(body: bytes) -> dict[str, str]:
    import hashlib
    import hmac

    from tests.handlers.slack.factories import SECRET

    ts = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + signature.hexdigest()}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b"payload=notjson", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00invalid", "application/json"),
    ],
)
async def test_malformed_bodies_are_401_unsigned_and_400_signed_without_a_traceback(
    slack: SlackRig, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    """Issue 14 item 7: the signature is checked before anything is parsed."""
    url = f"{slack.url}/slack/events"
    with caplog.at_level(logging.INFO):
        unsigned = await slack.http.post(url, content=body, headers={"Content-Type": content_type})
        signed = await slack.http.post(
            url, content=body, headers={"Content-Type": content_type, **_signed_bytes(body)}
        )
    assert (unsigned.status_code, signed.status_code) == (401, 400)
    assert "Traceback" not in caplog.text


async def test_a_replayed_signed_request_is_processed_once(slack: SlackRig) -> None:
    """Issue 14 item 6: the same signed body sent again within the five minutes."""
    case = early_leaver(slack.core, school="vlinder", by="mila")
    slack.core.handle_text(person_id="bram", text=f"/claim {case.ref}", transport="slack")
    url = slack.fake.response_url("replayed")
    request = make_slash_command(f"/transfer {case.ref} Zwolle", user="U01BRAM", response_url=url)
    timestamp = int(time.time())
    first = await slack.post(request, timestamp=timestamp)
    again = await slack.post(request, timestamp=timestamp)  # byte for byte the same request
    assert (first.status_code, again.status_code) == (200, 200)
    # the replay was turned away before the answer to it: it never reached the app
    assert again.text == ""
    await eventually(lambda: len(slack.fake.responses("replayed")) == 1)
    transfers = [e for e in trail(slack.core, case.ref) if e.action == "transfer"]
    assert len(transfers) == 1


async def test_slacks_ssl_check_is_answered_200(slack: SlackRig) -> None:
    """Issue 24 item 5: Slack checks the certificate with an unsigned form post."""
    response = await slack.http.post(
        f"{slack.url}/slack/events",
        content=b"ssl_check=1&token=abc",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"type": "event_callback", "event": "message"}', "application/json"),
        (b'{"type": "event_callback", "event": ["message"]}', "application/json"),
        (
            b"payload=" + json.dumps({"type": "view_submission", "user": {"id": "U1"}}).encode(),
            "application/x-www-form-urlencoded",
        ),
    ],
)
async def test_signed_bodies_of_the_wrong_shape_are_400_not_500(
    slack: SlackRig, body: bytes, content_type: str
) -> None:
    """Issue 24 item 5: an `event` that is not an object, a modal's submission without its
    view."""
    response = await slack.http.post(
        f"{slack.url}/slack/events",
        content=body,
        headers={"Content-Type": content_type, **_signed_bytes(body)},
    )
    assert response.status_code == 400


async def test_an_instance_on_the_old_key_after_a_rotation_says_so_not_something_went_wrong(
    slack: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 24 item 7: the data was rotated to a new key; this process still has the old."""
    from cryptography.fernet import Fernet

    from bot.store import crypto

    case = early_leaver(slack.core, school="vlinder", by="mila", name="Jesse", consent="given")
    crypto.use_keys([Fernet.generate_key()])  # what `vangnet keys rotate` leaves it with
    url = slack.fake.response_url("old-key")
    with caplog.at_level(logging.ERROR):
        await slack.post(make_slash_command(f"/case {case.ref}", user="U01ANNA", response_url=url))
        await eventually(lambda: len(slack.fake.responses("old-key")) == 1)
    (answer,) = slack.fake.responses("old-key")
    assert nl("Something went wrong. Please try again later.") not in text_of(answer)
    assert nl(
        "Vangnet cannot read its data with the key it runs on: the key was changed. Ask whoever "
        "runs Vangnet to restart it with the new key."
    ) in text_of(answer)
    assert any("vangnet keys rotate" in r.getMessage() for r in caplog.records)


async def test_a_retired_button_acknowledged_early_is_told_not_silent(
    slack: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 24 item 4: no listener answers an old message's button any more. Told in the
    person's language (Bram reads English), ephemerally, or in the DM from the App Home."""
    url = slack.fake.response_url("retired")
    with caplog.at_level(logging.WARNING):
        response = await slack.post(
            make_block_action(
                "claim:K7F2", user="U01BRAM", channel="D01BRAM", response_url=url, action_id="old"
            )
        )
        assert response.status_code == 200
        await eventually(lambda: len(slack.fake.responses("retired")) == 1)
    (answer,) = slack.fake.responses("retired")
    expected = "That button or command is no longer in use. Type /help to see what you can do."
    assert expected in text_of(answer)
    assert answer.body["response_type"] == "ephemeral"
    assert "no listener" in caplog.text
    await slack.post(make_block_action("claim:K7F2", user="U01WIM", action_id="old"))  # Home
    await eventually(lambda: len(slack.fake.posted("D01WIM")) == 1)
    assert nl(expected) in text_of(slack.fake.posted("D01WIM")[0])


async def test_slacks_sign_in_failing_after_the_acknowledgement_is_told(
    slack: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 24 item 4: bolt's authorization (auth.test) fails after the route acked."""
    slack.fake.fail("auth.test", 500, times=20)
    url = slack.fake.response_url("signin")
    with caplog.at_level(logging.ERROR):
        await slack.post(make_slash_command("/help", user="U01WIM", response_url=url))
        await eventually(lambda: len(slack.fake.responses("signin")) == 1)
    (answer,) = slack.fake.responses("signin")
    said = nl("Vangnet could not sign in to Slack just now. Please try again in a minute.")
    assert said in text_of(answer)
    assert caplog.records
