"""Replies as Teams shows them: plain text, or one Adaptive Card 1.5 with buttons."""

from __future__ import annotations

import json

from bot.core.replies import Button, Item, Reply
from bot.handlers.teams import render


def test_text_alone_is_a_plain_message_and_anything_more_a_card() -> None:
    assert render.activity_body(Reply(text="*niet vet*")) == {
        "type": "message",
        "text": "*niet vet*",
        "textFormat": "plain",
    }
    reply = Reply(
        title="Casus K7F2",
        text="Uitstromer *x*",
        fields=[Item(label="Gemeente", value="Zwolle")],
        buttons=[Button(label="Claimen", action="claim:K7F2", style="primary")],
    )
    body = render.activity_body(reply)
    card = body["attachments"][0]["content"]
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    assert card["body"][1]["text"] == "Uitstromer \\*x\\*"  # Markdown taken literally
    assert card["actions"] == [
        {
            "type": "Action.Submit",
            "title": "Claimen",
            "data": {"vangnet": "claim:K7F2"},
            "style": "positive",
        }
    ]
    assert render.action_of({"vangnet": "claim:K7F2"}) == "claim:K7F2"
    assert render.action_of({"other": 1}) is None


def test_a_chart_is_an_inline_image_of_its_own_when_it_fits_a_teams_message() -> None:
    small = Reply(title="Digest", image_png=b"\x89PNG" + b"0" * 100, image_title="Uitstroom")
    large = Reply(title="Digest", image_png=b"\x89PNG" + b"0" * 80_000)
    assert not any(item["type"] == "Image" for item in render.card(small)["body"])
    shown = render.chart(small)
    assert shown is not None
    (image,) = shown["attachments"]
    assert image["contentType"] == "image/png"
    assert image["contentUrl"].startswith("data:image/png;base64,iVBOR")
    assert image["name"] == "Uitstroom.png"
    assert len(json.dumps(render.chart(Reply(image_png=b"0" * render.MAX_IMAGE_BYTES)))) < 100_000
    assert render.chart(large) is None
