"""What every core command knows: who asks, in which language, through which transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.core import clock
from bot.core.i18n import Translator, translator
from bot.region import Region
from bot.store.models import Person
from bot.store.queries import Remembered

SYSTEM_ID = "system"


def system_person() -> Person:
    """The actor of scheduled work; never stored, never in scope of anything."""
    return Person(id=SYSTEM_ID, name="Vangnet", roles=[])


@dataclass
class Ctx:
    session: Session
    region: Region
    actor: Person
    transport: str
    default_language: str
    # A direct message, the App Home, an ephemeral answer or the terminal: personal details
    # of a young person may be shown. False in a channel or group.
    private: bool = True
    # Where the command was typed or the button pressed ("slack:C123", "telegram:-100…",
    # "terminal"), for what belongs to a place (a scan session); None when unknown.
    place: str | None = None
    # The directory's answers remembered, for a batch of scheduled work in one transaction
    # (set by the sweep): cards and pings then ask for each municipality's brokers once.
    known: Remembered | None = None
    # When the request arrived, as its transport stamped it (Slack acknowledges first and
    # works after, so requests may be worked on in another order than they came); None:
    # when it is worked on, `arrival`
    arrived: datetime | None = None
    t: Translator = field(init=False)

    def __post_init__(self) -> None:
        self.t = self.translator_for(self.actor)

    @property
    def arrival(self) -> datetime:
        """When the request arrived: its transport's stamp, else now."""
        return self.arrived if self.arrived is not None else clock.now()

    def translator_for(self, person: Person) -> Translator:
        return translator(person.language or self.default_language)
