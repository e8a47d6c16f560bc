"""Where a young person lives: the home municipality, from what a school writes.

Schools write the municipality ("Dalfsen") or, as their student administration has it, the
woonplaats of the address ("Nieuwleusen"), which is often a village of a municipality with
another name. Both are understood, the region first:

1. a municipality of the region (name or CBS code);
2. a place in the region's municipalities ("Nieuwleusen" → Dalfsen); a name that is a place
   in more than one of them ("Mastenbroek": Kampen and Zwartewaterland) asks which;
3. any other Dutch municipality (its case goes to the coordinator); a name two municipalities
   share ("Bergen") asks which;
4. a place anywhere else in the country, likewise (asked when there are several);
5. a place with its municipality: "Mastenbroek (Kampen)" or "Mastenbroek, Kampen".

Anything else is refused with the closest names: the region's municipalities and places
first, else the country's. The places are bot/region/nl_places.py's table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import select

from bot.core.conversation.fields import FieldError, ParseEnv
from bot.region import nl_municipalities, nl_places
from bot.store.models import Municipality


@dataclass(frozen=True)
class Home:
    code: str  # the CBS code of the home municipality
    place: str = ""  # the woonplaats named, when it is not the municipality's own name
    municipality: str = ""  # the municipality's name (the region's spelling if it is one)


def resolve_home(raw: str, env: ParseEnv, *, suggest: bool = True) -> Home:
    """The home municipality `raw` names, or FieldError saying why not (with the names to
    offer as buttons; none when not `suggest`: looking for them takes a few milliseconds)."""
    from bot.core.directory import match_municipality

    t = env.t
    text = " ".join(raw.split())
    if not env.municipalities:
        env.municipalities.extend(env.session.exec(select(Municipality)))
    region = {m.code: m.name for m in env.municipalities}
    found, close_region = match_municipality(env.session, text, among=env.municipalities)
    if found is not None:
        return Home(found.code, municipality=found.name)
    places = nl_places.named(text)
    home = _one_of([p for p in places if p.municipality in region], text, env, region)
    if home is not None:
        return home
    elsewhere, close_country = nl_municipalities.match(text)
    if elsewhere is not None:
        return Home(elsewhere.code, municipality=elsewhere.name)
    same = nl_municipalities.same_name(text)
    if same:  # "Bergen": there is one in Noord-Holland and one in Limburg
        raise FieldError(
            t(
                "There is more than one municipality called {text}: {names}. Which one?",
                text=text,
                names=", ".join(same),
            ),
            same,
        )
    home = _one_of(places, text, env, region) or _with_municipality(text, env, region)
    if home is not None:
        return home
    suggestions: list[str] = []
    if suggest:
        suggestions = close_region + nl_places.closest(text, nl_places.in_municipalities(region))
        if not suggestions:
            suggestions = close_country + nl_places.closest(text, nl_places.all_places())
        suggestions = list(dict.fromkeys(suggestions))[:4]
    if suggestions:
        raise FieldError(
            t(
                "I don't know {text} as a Dutch municipality or place. Did you mean: {names}?",
                text=text,
                names=", ".join(suggestions),
            ),
            suggestions,
        )
    raise FieldError(
        t(
            "I don't know {text} as a Dutch municipality or place. Give the municipality or "
            "the place where the young person lives.",
            text=text or "-",
        )
    )


def _name(code: str, region: dict[str, str]) -> str:
    return region.get(code) or nl_municipalities.name_of(code) or code


def _one_of(
    places: list[nl_places.Place], text: str, env: ParseEnv, region: dict[str, str]
) -> Home | None:
    """The home of one of `places` (all named `text`): None when there are none; asked which
    when they lie in more than one municipality."""
    codes = list(dict.fromkeys(p.municipality for p in places))
    if not codes:
        return None
    if len(codes) == 1:
        return _home(places[0], region)
    names = sorted((_name(code, region) for code in codes), key=str.casefold)
    place = places[0].name if len({p.name for p in places}) == 1 else text
    raise FieldError(
        env.t(
            "{place} is a place in more than one municipality: {names}. Which one? Write for "
            'example "{example}".',
            place=place,
            names=env.t("{some} and {last}", some=", ".join(names[:-1]), last=names[-1]),
            example=f"{place} ({names[0]})",
        ),
        names,
    )


def _home(place: nl_places.Place, region: dict[str, str]) -> Home:
    municipality = _name(place.municipality, region)
    shown = "" if nl_places.key(place.name) == nl_places.key(municipality) else place.name
    return Home(place.municipality, place=shown, municipality=municipality)


_PLACE_AND_MUNICIPALITY = re.compile(r"(?P<place>[^(),]+?)\s*(?:\((?P<a>[^()]+)\)|,(?P<b>.+))")


def _with_municipality(text: str, env: ParseEnv, region: dict[str, str]) -> Home | None:
    """ "Mastenbroek (Kampen)" or "Mastenbroek, Kampen": the place of that name in that
    municipality, if there is one."""
    m = _PLACE_AND_MUNICIPALITY.fullmatch(text)
    if m is None:
        return None
    said = (m["a"] or m["b"] or "").strip()
    wanted = {code for code, name in region.items() if nl_places.key(name) == nl_places.key(said)}
    found, _ = nl_municipalities.match(said)
    if found is not None:
        wanted.add(found.code)
    for place in nl_places.named(m["place"]):
        if place.municipality in wanted:
            return _home(place, region)
    return None
