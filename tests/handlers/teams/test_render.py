"""Replies as Teams shows them: plain text, or one Adaptive Card 1.5 with buttons."""

from __future__ import annotations

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


def test_a_chart_too_large_for_a_teams_message_is_left_out() -> None:
    small = render.card(Reply(title="Digest", image_png=b"\x89PNG" + b"0" * 100))
    large = render.card(Reply(title="Digest", image_png=b"\x89PNG" + b"0" * 40_000))
    assert any(item["type"] == "Image" for item in small["body"])
    assert not any(item["type"] == "Image" for item in large["body"])
