"""The mark button of a scan (`sv:<session>:<factor>:<mark>`): where a pressed mark goes.

While the scan is marked ahead, the mark is one given in a direct message (`marking_ahead`);
in the meeting it is a mark of the live vote (`votes`), counted when it arrived in time, and a
voter not yet at the table is asked for their group (`table`) so the table shows who voted.
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.replies import Reply
from bot.core.scan import marking_ahead, table, votes
from bot.store.models import ScanSession


def press(ctx: Ctx, rest: str) -> list[Reply]:
    """A mark button: 'sv:<session>:<factor>:<mark>'."""
    parts = rest.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise Refused(ctx.t("That button no longer works. Type /help."))
    scan_id, factor, mark = (int(p) for p in parts)
    scan = ctx.session.get(ScanSession, scan_id)
    if scan is None:
        raise Refused(ctx.t("That button no longer works. Type /help."))
    content = votes.content_of(scan)
    if mark not in content.scale.marks:
        raise Refused(ctx.t("That button no longer works. Type /help."))
    if scan.state == "open" and scan.stage == "ahead":  # a mark given ahead, in a direct message
        return marking_ahead.cast(ctx, scan, factor, mark)
    if not votes.arrived_in_time(ctx, scan, factor):
        raise Refused(ctx.t("Voting on this question is closed; your mark was not recorded."))
    if votes.record(ctx, scan_id, factor, mark):
        answer = ctx.t("Your mark {mark} is recorded. Only you see this.", mark=mark)
    else:
        answer = ctx.t("Your mark is now {mark}. Only you see this.", mark=mark)
    if table.seated_in(ctx, scan, ctx.actor.id) is None and scan.state == "open":
        return [
            Reply(text=answer),
            table.ask_group(ctx, scan),
            votes.voting_message(ctx, scan, factor),
        ]
    return [Reply(text=answer), votes.voting_message(ctx, scan, factor)]
