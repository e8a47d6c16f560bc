"""The terminal chat: the embedded transport when no chat platform is configured.

One can act as any person of the directory (`/as anna`), type the same commands as on Slack
or Telegram, press buttons by typing their number, and see messages the bot sent to the
person one is acting as — including the ones it sent while one was someone else. Works with
piped standard input, so it can be scripted and tested.

Every button gets its own number for the whole session. A bare number presses a button of the
current question only — the last message(s) shown with buttons, and the place's own last
question (a scan's vote) — and only when that question does not wait for typed text: there a
number is the answer (a student number, a year of birth). A button of an earlier message (a
follow-up question, "My list is complete") is pressed with # before its number (`#12`); the
core decides whether it still applies. Typing a current button's label ("Bevestigen")
presses it too. A button belongs to the person it was shown to. A chart is saved as a PNG
file and its path printed.

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
        # The current question: the buttons of the last output that had buttons (a bare
        # number presses these), whether it waits for typed text (then a number is the
        # answer), and the buttons of the place's last question (for everyone there).
        self.current: list[int] = []
        self.asks_text = False
        self.place_current: list[int] = []
        self.fresh = True  # a line was typed: the next buttons shown are the current ones
        self.updated: dict[str, list[int]] = {}  # a message's name -> its buttons' numbers
        self.charts = 0

    # --- output ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def show(self, replies: list[Reply], *, owner: str | None = None) -> None:
        """Print replies; their buttons get numbers and stay pressable. A message shown again
        changed (a vote's new count, `updates`) keeps the numbers of its same buttons."""
        for reply in place(replies, private_here=PRIVATE, t=self.translator()).here:
            numbers = self.updated.get(reply.updates or "", [])
            if [self.buttons[n][1] for n in numbers] != reply.buttons:
                numbers = list(range(self.next_button, self.next_button + len(reply.buttons)))
                self.next_button += len(reply.buttons)
            self.say(
                render(
                    reply,
                    first_button=numbers[0] if numbers else self.next_button,
                    image_path=self.save(reply),
                    file_path=self.save_file(reply),
                )
            )
            if not reply.buttons:
                continue
            if reply.updates:
                self.updated[reply.updates] = numbers
            if self.fresh:
                self.current, self.asks_text, self.fresh = [], False, False
            for n, button in zip(numbers, reply.buttons, strict=True):
                self.buttons[n] = (None if reply.to_place else owner, button)
            self.current += numbers
            self.asks_text = self.asks_text or reply.asks_text
            if reply.to_place:
                self.place_current = numbers

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
                "Press a button of the last question by typing its number or its name; a "
                "button of an earlier message with # before its number (#12). While a "
                "question waits for text, a number you type is your answer."
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
        self.fresh = True  # what this line shows with buttons is the current question
        if text.startswith("/as"):
            self.switch(text[3:].strip())
            return True
        if text.startswith("/upload"):
            return self.upload(text[len("/upload") :].strip())
        if text.split(" ", 1)[0] == "/clock":
            return self.move_clock(text[len("/clock") :].strip())
        pressed = self.button_of(text)
        if isinstance(pressed, str):  # not a press after all: why, in one line
            self.say(pressed)
            return True
        if pressed is not None:
            return self.press(pressed)
        return self.act(
            lambda pid: self.core.handle_text(
                person_id=pid, text=text, transport=TRANSPORT, place=TRANSPORT
            )
        )

    def button_of(self, text: str) -> int | str | None:
        """The number of the button `text` presses; None when it is text for the core; a
        line to show when it names a button that cannot be pressed this way."""
        if m := re.fullmatch(r"#\s*(\d+)", text):
            n = int(m[1])
            if n in self.buttons:
                return n
            return self.t("There is no button #{n}.", n=n)
        current = self.current + [n for n in self.place_current if n not in self.current]
        if text.isdigit():
            n = int(text)
            if self.asks_text or n not in self.buttons:
                return None  # an answer: a year, a student number
            owner = self.buttons[n][0]
            if n in current or owner not in (None, self.who.id if self.who else None):
                return n  # pressed, or said to be someone else's
            return self.t("Button {n} belongs to an earlier message: type #{n} to press it.", n=n)
        if text.startswith("/"):
            return None
        word = text.casefold()
        mine = (None, self.who.id if self.who else None)
        named = {
            self.buttons[n][1].action: n
            for n in current
            if self.buttons[n][1].label.casefold() == word and self.buttons[n][0] in mine
        }
        if len(named) > 1:
            return self.t(
                'Several buttons are called "{label}": type the number of the one you mean.',
                label=text,
            )
        return next(iter(named.values()), None)

    def press(self, n: int) -> bool:
        owner, button = self.buttons[n]
        action = button.action
        if action.startswith("as:"):
            self.switch(action[3:])
            return True
        if self.who is not None and owner not in (None, self.who.id):
            self.say(
                self.t(
                    "Button {n} was shown to someone else: first /as {person}.",
                    n=n,
                    person=owner,
                )
            )
            return True
        return self.act(
            lambda pid: self.core.handle_action(
                person_id=pid, action=action, transport=TRANSPORT, place=TRANSPORT
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
        # the question of the person one was is not this person's: only the place's stays
        self.current, self.asks_text, self.fresh = list(self.place_current), False, True
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
