"""The terminal chat: the embedded transport when no chat platform is configured.

One can act as any person of the directory (`/as anna`), type the same commands as on Slack
or Telegram, press buttons by typing their number, and see messages the bot sent to the
person one is acting as — including the ones it sent while one was someone else. Works with
piped standard input, so it can be scripted and tested.

Every button gets its own number for the whole session, so a button of an earlier message (a
follow-up question, "My list is complete") can still be pressed after newer messages came;
the core decides whether it still applies. A button belongs to the person it was shown to.
A chart is saved as a PNG file and its path printed.

It uses the shared transport layer (`bot.handlers.common`): who one is acting as is a `Who`,
and what is shown obeys the privacy rule, for which the terminal is always a private place
(one person's own chat). Messages from the outbox are shown through `Core.deliver`, in the
same thread as the typing, since the terminal prints as it reads.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.core import clock, democlock
from bot.core.app import Core
from bot.core.directory import find_person
from bot.core.i18n import Translator, translator
from bot.core.replies import Button, Reply
from bot.core.vocab import role_labels
from bot.handlers.common.files import read_upload
from bot.handlers.common.privacy import place
from bot.handlers.common.who import Who, who_of
from bot.handlers.plain import render
from bot.logs import log_failure
from bot.store.db import session_scope
from bot.store.queries import active_people

log = logging.getLogger(__name__)
TRANSPORT = "terminal"
PRIVATE = True  # the terminal is the private chat of the person one acts as


def default_chart_dir(database_url: str) -> Path:
    """Charts go next to a SQLite database file, else to the system's temporary directory."""
    from sqlalchemy import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).expanduser().resolve().parent / "vangnet-charts"
    return Path(tempfile.gettempdir()) / "vangnet-charts"


class TerminalChat:
    def __init__(
        self,
        core: Core,
        stdin: TextIO,
        stdout: TextIO,
        *,
        interactive: bool,
        chart_dir: Path | None = None,
    ) -> None:
        self.core = core
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = interactive
        self.chart_dir = chart_dir or Path(tempfile.gettempdir()) / "vangnet-charts"
        self.who: Who | None = None
        # number -> (the id of the person it was shown to, or None for anyone; the button)
        self.buttons: dict[int, tuple[str | None, Button]] = {}
        self.next_button = 1
        self.charts = 0

    # --- output ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def show(self, replies: list[Reply], *, owner: str | None = None) -> None:
        """Print replies; their buttons get the next numbers and stay pressable."""
        for reply in place(replies, private_here=PRIVATE, t=self.translator()).here:
            self.say(
                render(
                    reply,
                    first_button=self.next_button,
                    image_path=self.save(reply),
                    file_path=self.save_file(reply),
                )
            )
            for button in reply.buttons:
                self.buttons[self.next_button] = (None if reply.to_place else owner, button)
                self.next_button += 1

    def save(self, reply: Reply) -> Path | None:
        """Write a reply's chart to a PNG file; None when there is none or it cannot be written."""
        if reply.image_png is None:
            return None
        self.charts += 1
        slug = re.sub(r"[^a-z0-9]+", "-", (reply.image_title or "chart").casefold()).strip("-")
        stamp = datetime.now(self.core.region.tz).strftime("%Y%m%d-%H%M%S")
        path = self.chart_dir / f"{slug or 'chart'}-{stamp}-{self.charts}.png"
        try:
            self.chart_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(reply.image_png)
        except OSError as exc:
            self.say(
                self.t(
                    "I cannot save the chart in {path}: {reason}",
                    path=self.chart_dir,
                    reason=exc.strerror or type(exc).__name__,
                )
            )
            return None
        return path

    def save_file(self, reply: Reply) -> Path | None:
        """Write a reply's file (a privacy export) next to the charts; None when there is none
        or it cannot be written (then its size is shown)."""
        if reply.file is None:
            return None
        name = Path(reply.file_name or "vangnet.txt").name  # never a path of its own
        path = self.chart_dir.parent / "vangnet-files" / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(reply.file)
        except OSError:
            return None
        return path

    def translator(self) -> Translator:
        return self.who.t if self.who else translator(self.core.default_language)

    def t(self, message: str, **params: object) -> str:
        return self.translator()(message, **params)

    def deliver(self) -> None:
        """Show what the bot sent to the person one is acting as."""
        if self.who is None:
            return
        name = self.who.name

        def send(reply: Reply) -> bool:
            self.say(self.t("✉ Message for {name}:", name=name))
            self.show([reply], owner=person_id)
            return True

        person_id = self.who.id
        self.core.deliver(person_id=person_id, via=TRANSPORT, send=send)

    # --- input ----------------------------------------------------------------------------

    def intro(self) -> None:
        self.say(self.t("Vangnet — {region}. Terminal chat.", region=self.core.region.region))
        self.say(self.t("Act as someone with /as followed by an id or a name; /quit leaves."))
        self.say(
            self.t(
                "Press a button by typing its number; buttons of earlier messages keep "
                "their numbers."
            )
        )
        self.say(
            self.t(
                "Demo: /clock +3d or /clock 2027-03-01 moves the bot's clock forward (never "
                "back), so you see rounds, reminders, escalations, follow-ups and the digest "
                "happen."
            )
        )
        ahead = democlock.restore(self.core.engine)
        if ahead:
            when = clock.now().astimezone(self.core.region.tz).strftime("%Y-%m-%d %H:%M")
            self.say(self.t("The demo clock was moved earlier: it says {when}.", when=when))
        t = translator(self.core.default_language)
        with session_scope(self.core.engine) as session:
            for p in active_people(session):
                self.say(f"  {p.id:<10} {p.name} ({role_labels(t, p.roles)})")

    def handle(self, line: str) -> bool:
        """One typed line. False when the chat should end."""
        text = line.strip()
        if not text:
            return True
        if text in ("/quit", "/exit"):
            return False
        if text.startswith("/as"):
            self.switch(text[3:].strip())
            return True
        if text.startswith("/upload"):
            return self.upload(text[len("/upload") :].strip())
        if text.split(" ", 1)[0] == "/clock":
            return self.move_clock(text[len("/clock") :].strip())
        # The number of a button shown presses it; any other number is an answer (a year, say).
        if text.isdigit() and int(text) in self.buttons:
            owner, button = self.buttons[int(text)]
            action = button.action
            if action.startswith("as:"):
                self.switch(action[3:])
                return True
            if self.who is not None and owner not in (None, self.who.id):
                self.say(
                    self.t(
                        "Button {n} was shown to someone else: first /as {person}.",
                        n=int(text),
                        person=owner,
                    )
                )
                return True
            return self.act(
                lambda pid: self.core.handle_action(
                    person_id=pid, action=action, transport=TRANSPORT, place=TRANSPORT
                )
            )
        return self.act(
            lambda pid: self.core.handle_text(
                person_id=pid, text=text, transport=TRANSPORT, place=TRANSPORT
            )
        )

    def act(self, call: object) -> bool:
        if self.who is None:
            self.say(self.t("First choose who you are: /as followed by an id or a name."))
            return True
        try:
            self.show(call(self.who.id), owner=self.who.id)  # type: ignore[operator]
        except Exception as exc:  # never the text: it may quote personal data
            log_failure(log, "terminal command failed", exc=exc)
            self.say(self.t("Something went wrong; it has been logged. Please try again."))
        self.deliver()
        return True

    def upload(self, args: str) -> bool:
        """The terminal's way to send a file to the bot: /upload PATH [--sheet NAME]."""
        path, _, sheet = args.partition(" --sheet")
        path = path.strip()
        if not path:
            self.say(
                self.t(
                    "Which file? /upload followed by the path of a CSV file or an Excel "
                    "workbook (and --sheet NAME for another sheet than the first)."
                )
            )
            return True
        try:
            data = read_upload(Path(path).expanduser())
        except OSError:
            self.say(self.t("I cannot read the file {path}.", path=path))
            return True
        text = f"sheet {sheet.strip()}" if sheet.strip() else ""
        return self.act(
            lambda pid: self.core.handle_file(
                person_id=pid,
                data=data,
                transport=TRANSPORT,
                filename=Path(path).name,
                text=text,
            )
        )

    def move_clock(self, args: str) -> bool:
        """/clock +3d or /clock 2027-03-01: the demo's clock forward, and what happened on
        the way (the terminal's own command: a real network's clock is never moved)."""
        try:
            democlock.check_demo_database(self.core.engine)
            target = democlock.target_of(args, self.core)
        except democlock.ClockRefused as refused:
            self.say("! " + self.t(refused.message, **refused.params))
            return True
        when = target.astimezone(self.core.region.tz).strftime("%Y-%m-%d %H:%M")
        self.say(
            self.t("Moving the clock to {when}; everything planned on the way runs…", when=when)
        )
        try:
            walk = democlock.advance(self.core, target)
        except Exception as exc:  # never the text: it may quote personal data
            log_failure(log, "moving the demo clock failed", exc=exc)
            self.say(self.t("Something went wrong; it has been logged. Please try again."))
            return True
        self.say(democlock.report(self.translator(), self.core, walk))
        self.deliver()
        return True

    def switch(self, query: str) -> None:
        with session_scope(self.core.engine) as session:
            people = find_person(session, query) if query else []
            found = [who_of(p, self.core.default_language) for p in people]
        if not found:
            self.say(self.t('Nobody in the directory matches "{query}".', query=query))
            return
        if len(found) > 1:
            self.show(
                [
                    Reply(
                        text=self.t("Who do you mean?"),
                        buttons=[Button(label=p.name, action=f"as:{p.id}") for p in found],
                    )
                ]
            )
            return
        self.who = chosen = found[0]
        self.say(
            self.t(
                "You are now {name} ({roles}).",
                name=chosen.name,
                roles=role_labels(self.translator(), list(chosen.roles)),
            )
        )
        self.deliver()
        # An unfinished conversation (from before a restart, say) is shown where it was.
        self.act(lambda pid: self.core.resume(person_id=pid, transport=TRANSPORT))

    def prompt(self) -> None:
        if self.interactive:
            self.stdout.write(f"{self.who.id if self.who else '?'}> ")
            self.stdout.flush()

    async def run(self, *, poll_seconds: float = 2.0) -> None:
        """Read lines until /quit or the end of input; meanwhile show arriving messages."""
        self.intro()

        async def poll() -> None:
            while True:
                await asyncio.sleep(poll_seconds)
                self.deliver()

        poller = asyncio.create_task(poll())
        try:
            while True:
                self.prompt()
                line = await asyncio.to_thread(self.stdin.readline)
                if line == "":  # end of input
                    break
                if not self.handle(line):
                    break
        finally:
            poller.cancel()
        self.say(self.t("Goodbye."))
