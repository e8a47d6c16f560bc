"""Replies as Block Kit: escaping, limits, paging — checked with slack_sdk's own models."""

from __future__ import annotations

import html
import json
from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.core.followup.followups import PLACEMENT_FORM
from bot.core.i18n import translator
from bot.core.intake.fields import LEAVER_FIELDS
from bot.core.intake.leaver_form import LEAVER_FORM
from bot.core.replies import Button, Item, Reply
from bot.handlers.slack.render import (
    MAX_BLOCKS,
    escape,
    home_view,
    render,
    split_mrkdwn,
)
from bot.handlers.slack.views import leaver_modal, placement_modal

INJECTIONS = ["<!channel>", "<@U123>", "<b>", "<!here|here>", "a & b", "<https://evil.example|x>"]


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text in a block structure."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            found.append(node["text"])
        for value in node.values():
            found += mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += mrkdwn_texts(value)
    return found


def valid(blocks: list[dict[str, Any]]) -> None:
    """The blocks (rendered as plain dicts) are what slack_sdk's models make of them: every
    block parses, passes Block Kit's checks, and comes back as the same JSON."""
    assert len(blocks) <= MAX_BLOCKS
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None
        block.validate_json()
        assert block.to_dict() == raw


def card() -> Reply:
    return Reply(
        title="Case K7F2",
        text="A handover is due for a young person of your municipality.",
        fields=[Item(label="School", value="De Brug"), Item(label="State", value="due")],
        buttons=[
            Button(label="Claim", action="claim:K7F2", style="primary"),
            Button(label="Transfer", action="transfer:K7F2"),
            Button(label="Details", action="details:K7F2"),
        ],
        personal=True,
    )


def test_a_card_is_one_valid_message_with_header_fields_and_buttons() -> None:
    (message,) = render(card())
    blocks = message.blocks_json()
    valid(blocks)
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Case K7F2"
    assert blocks[2]["fields"][0]["text"] == "*School*\nDe Brug"
    actions = blocks[-1]
    assert actions["type"] == "actions"
    assert [e["value"] for e in actions["elements"]] == [
        "claim:K7F2",
        "transfer:K7F2",
        "details:K7F2",
    ]
    assert [e.get("style") for e in actions["elements"]] == ["primary", None, None]
    ids = [e["action_id"] for e in actions["elements"]]
    assert len(set(ids)) == len(ids)
    assert message.text == "Case K7F2"


def test_user_text_is_escaped_everywhere_it_is_mrkdwn() -> None:
    for bad in INJECTIONS:
        reply = Reply(
            title=bad * 40,  # too long for a header: becomes a bold section
            text=f"Student {bad}",
            fields=[Item(label=bad, value=bad), Item(label="Notes", value=bad * 300)],
            lines=[f"K7F2 · {bad}"],
            buttons=[Button(label=bad, action="case:K7F2")],
            error=True,
        )
        texts: list[str] = []
        for message in render(reply):
            blocks = message.blocks_json()
            valid(blocks)
            texts += [*mrkdwn_texts(blocks), message.text]
        for text in texts:
            assert "<" not in text and ">" not in text, text
        # nothing lost: the escaped text shows the original to the reader
        assert any(f"Student {bad}" in html.unescape(t) for t in texts)
        assert any(f"K7F2 · {bad}" in html.unescape(t) for t in texts)


def test_escaping_keeps_the_text() -> None:
    assert escape("<!channel> & <@U123> <b>") == "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;b&gt;"
    assert html.unescape(escape("a<b>&c")) == "a<b>&c"


def test_long_text_is_split_into_sections_not_cut() -> None:
    words = " ".join(f"word{i}" for i in range(3000))  # ~26,000 characters
    messages = render(Reply(text=words))
    sections = [b for m in messages for b in m.blocks_json() if b["type"] == "section"]
    assert len(sections) >= 9
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    joined = " ".join(s["text"]["text"] for s in sections)
    assert joined.split() == words.split()


def test_splitting_never_cuts_an_entity() -> None:
    pieces = split_mrkdwn("&" * 5000, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert "".join(pieces) == "&amp;" * 5000


def test_many_fields_go_ten_to_a_section_and_a_long_one_gets_its_own() -> None:
    fields = [Item(label=f"L{i}", value=f"v{i}") for i in range(23)]
    fields.insert(5, Item(label="Notes", value="x" * 2500))
    (message,) = render(Reply(fields=fields))
    blocks = message.blocks_json()
    valid(blocks)
    assert [len(b.get("fields", [])) for b in blocks] == [5, 0, 10, 8]
    assert blocks[1]["text"]["text"] == "*Notes*\n" + "x" * 2500
    assert all(len(f["text"]) <= 2000 for b in blocks for f in b.get("fields", []))


def test_a_long_list_is_paged_into_several_messages() -> None:
    lines = [f"K{i:04d} · S-{i} · " + "due · " * 15 for i in range(2000)]
    buttons = [Button(label=f"K{i:04d}", action=f"case:K{i:04d}") for i in range(60)]
    messages = render(Reply(title="Leavers in your view", lines=lines, buttons=buttons))
    assert len(messages) > 1
    total = len(messages)
    shown_lines: list[str] = []
    shown_buttons: list[str] = []
    for n, message in enumerate(messages, start=1):
        blocks = message.blocks_json()
        valid(blocks)
        assert blocks[-1]["type"] == "context"
        assert blocks[-1]["elements"][0]["text"] == f"{n}/{total}"
        assert message.text.endswith(f"({n}/{total})")
        for b in blocks:
            if b["type"] == "section":
                shown_lines += [line.removeprefix("• ") for line in b["text"]["text"].split("\n")]
            if b["type"] == "actions":
                assert len(b["elements"]) <= 25
                shown_buttons += [e["value"] for e in b["elements"]]
    assert shown_lines == lines
    assert shown_buttons == [b.action for b in buttons]
    action_ids = [
        e["action_id"]
        for m in messages
        for b in m.blocks_json()
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert len(set(action_ids)) == len(action_ids)


def test_long_button_labels_are_shortened_visibly() -> None:
    (message,) = render(Reply(text="x", buttons=[Button(label="B" * 100, action="case:X")]))
    label = message.blocks_json()[-1]["elements"][0]["text"]["text"]
    assert len(label) == 75 and label.endswith("…")


def test_a_reply_without_a_title_uses_its_text_as_fallback() -> None:
    (message,) = render(Reply(text="<@U123> first line\nsecond", error=True))
    assert message.text == "⚠ &lt;@U123&gt; first line"
    assert message.blocks_json()[0]["text"]["text"].startswith(":warning: &lt;@U123&gt;")


def test_the_home_view_is_valid_and_says_when_it_does_not_all_fit() -> None:
    small = home_view([card(), card()], more="Type /help.")
    view = View(**small)
    view.validate_json()
    assert view.to_dict() == small
    ids = [e["action_id"] for b in small["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(set(ids)) == len(ids) == 6
    many = [Reply(text=f"reply {i}") for i in range(80)]
    big = home_view(many, more="Type /help.")
    View(**big).validate_json()
    assert len(big["blocks"]) == 100
    assert big["blocks"][-1]["elements"][0]["text"] == "Type /help."


def test_the_leaver_modal_has_one_input_per_field_of_the_form() -> None:
    view = leaver_modal(translator("en"), LEAVER_FORM).to_dict()
    View(**view).validate_json()
    assert view["callback_id"] == "leaver"
    blocks = view["blocks"]
    assert [b["block_id"] for b in blocks] == [f.name for f in LEAVER_FORM.fields]
    # the check that answers a submission knows exactly these fields
    assert {b["block_id"] for b in blocks} == {f.name for f in LEAVER_FIELDS}
    by_id = {b["block_id"]: b for b in blocks}
    assert by_id["programme"]["element"]["type"] == "static_select"
    assert [o["value"] for o in by_id["programme"]["element"]["options"]] == [
        "pro",
        "vso",
        "entree",
    ]
    assert by_id["early_leaver"]["element"]["type"] == "static_select"
    assert by_id["expected_exit"]["element"]["type"] == "plain_text_input"
    assert by_id["notes"]["element"]["multiline"] is True
    assert not by_id["student_ref"].get("optional", False)
    assert by_id["vso_profile"]["optional"] is True
    assert by_id["home_municipality"]["label"]["text"] == "Home municipality"
    json.dumps(view)


def test_the_placement_modal_escapes_the_student_and_carries_the_ref() -> None:
    view = placement_modal(
        translator("nl"), PLACEMENT_FORM, ref="K7F2", student="<!channel>", today=date(2026, 11, 23)
    ).to_dict()
    View(**view).validate_json()
    assert (view["callback_id"], view["private_metadata"]) == ("placement", "K7F2")
    intro = view["blocks"][0]
    assert intro["type"] == "section"
    assert intro["text"]["text"] == "Leg de plaatsing van casus K7F2 (&lt;!channel&gt;) vast."
    by_id = {b["block_id"]: b for b in view["blocks"][1:]}
    assert list(by_id) == [f.name for f in PLACEMENT_FORM.fields]
    assert by_id["start"]["element"] == {
        "type": "datepicker",
        "action_id": "start",
        "initial_date": "2026-11-23",
    }
    assert by_id["start"]["label"]["text"] == "Startdatum"
    assert "Laat dit leeg" in by_id["organisation"]["hint"]["text"]
    assert by_id["destination"]["element"]["options"][0]["text"]["text"] == "werk"
