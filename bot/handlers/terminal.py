"""The terminal chat: the embedded transport when no chat platform is configured.

One can act as any person of the directory (`/as anna`), type the same commands as on Slack
or Telegram, press buttons by typing their number, and see messages the bot sent to the
person one is acting as — including the ones it sent while one was someone else. Works with
piped standard input, so it can be scripted and tested.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TextIO

from bot.core.app import Core
from bot.core.directory import find_person
from bot.core.i18n import Translator, translator
from bot.core.replies import Button, Reply
from bot.core.vocab import role_labels
from bot.store.db import session_scope
from bot.store.models import Person
from bot.store.queries import active_people

log = logging.getLogger(__name__)
TRANSPORT = "terminal"


def render(reply: Reply, first_button: int = 1) -> str:
    """Plain text with numbered buttons. Nothing to escape: the terminal has no markup."""
    out: list[str] = []
    if reply.title:
        out.append(f"── {reply.title} ──")
    if reply.text:
        out.append(("! " if reply.error else "") + reply.text)
    out += [f"  {item.label}: {item.value}" for item in reply.fields]
    out += [f"  • {line}" for line in reply.lines]
    if reply.image_png is not None:
        out.append(f"  [{reply.image_title or 'chart'}: PNG, {len(reply.image_png)} bytes]")
    if reply.buttons:
        out.append(
            "  "
            + "  ".join(f"[{n}] {b.label}" for n, b in enumerate(reply.buttons, start=first_button))
        )
    return "\n".join(out)


class TerminalChat:
    def __init__(self, core: Core, stdin: TextIO, stdout: TextIO, *, interactive: bool) -> None:
        self.core = core
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = interactive
        self.person: Person | None = None
        self.buttons: list[Button] = []

    # --- output ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def show(self, replies: list[Reply]) -> None:
        self.buttons = []
        for reply in replies:
            self.say(render(reply, first_button=len(self.buttons) + 1))
            self.buttons += reply.buttons

    def translator(self) -> Translator:
        language = self.person.language if self.person else None
        return translator(language or self.core.default_language)

    def t(self, message: str, **params: object) -> str:
        return self.translator()(message, **params)

    def deliver(self) -> None:
        """Show what the bot sent to the person one is acting as."""
        if self.person is None:
            return
        name = self.person.name

        def send(reply: Reply) -> bool:
            self.say(self.t("✉ Message for {name}:", name=name))
            self.say(render(reply, first_button=len(self.buttons) + 1))
            self.buttons += reply.buttons
            return True

        self.core.deliver(person_id=self.person.id, via=TRANSPORT, send=send)

    # --- input ----------------------------------------------------------------------------

    def intro(self) -> None:
        self.say(self.t("Vangnet — {region}. Terminal chat.", region=self.core.region.region))
        self.say(self.t("Act as someone with /as followed by an id or a name; /quit leaves."))
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
        # A number presses a button shown last; any other number is an answer (a year, say).
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            n = int(text)
            action = self.buttons[n - 1].action
            if action.startswith("as:"):
                self.switch(action[3:])
                return True
            return self.act(
                lambda pid: self.core.handle_action(
                    person_id=pid, action=action, transport=TRANSPORT
                )
            )
        return self.act(
            lambda pid: self.core.handle_text(person_id=pid, text=text, transport=TRANSPORT)
        )

    def act(self, call: object) -> bool:
        if self.person is None:
            self.say(self.t("First choose who you are: /as followed by an id or a name."))
            return True
        try:
            self.show(call(self.person.id))  # type: ignore[operator]
        except Exception as exc:  # never the text: it may quote personal data
            log.error("terminal command failed: %s", type(exc).__name__)
            log.debug("terminal command failed", exc_info=exc)
            self.say(self.t("Something went wrong; it has been logged. Please try again."))
        self.deliver()
        return True

    def upload(self, path: str) -> bool:
        """The terminal's way to send a CSV file to the bot: /upload PATH."""
        if not path:
            self.say(self.t("Which file? /upload followed by the path of a CSV file."))
            return True
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError:
            self.say(self.t("I cannot read the file {path}.", path=path))
            return True
        return self.act(
            lambda pid: self.core.handle_file(person_id=pid, data=data, transport=TRANSPORT)
        )

    def switch(self, query: str) -> None:
        with session_scope(self.core.engine) as session:
            found = find_person(session, query) if query else []
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
        self.person = found[0]
        self.buttons = []
        self.say(
            self.t(
                "You are now {name} ({roles}).",
                name=self.person.name,
                roles=role_labels(self.translator(), self.person.roles),
            )
        )
        self.deliver()

    def prompt(self) -> None:
        if self.interactive:
            self.stdout.write(f"{self.person.id if self.person else '?'}> ")
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
