"""Leavers from outside the region (issue 13): a real Dutch municipality that is not the
region's is accepted; the case goes to the coordinator (no broker of the region gets it),
who hands it over to that region with the receiving contact noted, which closes it here;
the digest counts them apart. An unknown municipality is still refused.

The `core` fixture's clock stands at Monday 2026-11-23. Sara is the school contact of De Brug
(Zwolle), Anna the coordinator, Wim and Fatima the brokers of Zwolle.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot import nl_municipalities
from bot.core.app import Core
from bot.core.digest import weekly
from bot.core.i18n import translator
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from tests.core.intake.test_csv_import import run_import, where
from tests.factories import case, inbox, make_leaver, one, press, say, text_of, trail
from tests.handlers.test_terminal import chat, number

CONTACT = "Jeugdteam Amsterdam-Noord, Petra Kok, 020 555 0101"


def messages_about(core: Core, ref: str) -> list[OutboxMessage]:
    with session_scope(core.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.case_ref == ref)).all())


def amsterdam_leaver(core: Core) -> str:
    return make_leaver(
        core, home_municipality="Amsterdam", early_leaver="yes", expected_exit="2026-11"
    ).ref


def test_the_data_file_has_every_municipality_of_2025_with_its_cbs_code() -> None:
    every = nl_municipalities.all_municipalities()
    assert len(every) == 342  # CBS: 342 municipalities on 1 January 2025
    assert len({m.code for m in every}) == 342 and len({m.name for m in every}) == 342
    assert nl_municipalities.name_of("GM0363") == "Amsterdam"
    assert nl_municipalities.name_of("GM1992") == "Voorne aan Zee"  # formed 1 January 2023
    assert nl_municipalities.name_of("GM0193") == "Zwolle"
    assert nl_municipalities.name_of("GM9999") is None


def test_an_out_of_region_leaver_goes_to_the_coordinator_and_no_broker(core: Core) -> None:
    ref = amsterdam_leaver(core)

    c = case(core, ref)
    assert c.state == "due" and c.home_municipality_code == "GM0363"
    to = {m.person_id for m in messages_about(core, ref)}
    assert to == {"anna"}  # not Wim or Fatima (the school's own brokers), nor anyone else
    (card,) = [m for m in inbox(core, "anna", kind="due") if m.case_ref == ref]
    assert "lives in Amsterdam, outside the region" in card.payload["text"]
    assert f"/transfer {ref} outside" in card.payload["text"]
    actions = [b["action"] for b in card.payload["buttons"]]
    assert f"outside:{ref}" in actions and f"claim:{ref}" not in actions

    shown = text_of(one(say(core, "anna", f"/case {ref}")))
    assert "Home municipality: Amsterdam" in shown
    help_text = one(press(core, "anna", f"outside:{ref}")).text
    assert f"Who in Amsterdam takes case {ref} over?" in help_text


def test_the_coordinator_hands_it_over_outside_the_region(core: Core) -> None:
    ref = amsterdam_leaver(core)

    empty = one(say(core, "anna", f"/transfer {ref} outside"))
    assert empty.error and "Who in Amsterdam takes case" in empty.text
    assert case(core, ref).state == "due"
    wim = one(say(core, "wim", f"/transfer {ref} outside {CONTACT}"))
    assert wim.error and case(core, ref).state == "due"  # not his to hand over

    done = one(say(core, "anna", f"/transfer {ref} outside {CONTACT}"))
    assert done.text == (
        f"Case {ref} is handed over to Amsterdam ({CONTACT}) and closed for this region."
    )
    c = case(core, ref)
    assert (c.state, c.closed_reason, c.handed_over_to) == ("closed", "other_region", CONTACT)
    event = trail(core, ref)[-1]
    assert event.action == "hand_over_outside" and event.actor_id == "anna"
    assert event.detail["to"] == "closed" and CONTACT not in str(event.detail)
    (told,) = [m for m in inbox(core, "sara", kind="handed_over") if m.case_ref == ref]
    assert told.payload["text"].startswith(f"The young person of case {ref} (")
    assert "lives outside the region and was handed over to Amsterdam" in told.payload["text"]
    assert CONTACT in told.payload["text"]  # the school knows who took over
    shown = text_of(one(say(core, "anna", f"/case {ref}")))
    assert f"Handed over to: {CONTACT}" in shown
    assert "Reason: handed over to another region" in shown

    again = one(say(core, "anna", f"/transfer {ref} outside {CONTACT}"))
    assert again.error and "is already closed" in again.text


def test_the_dutch_keyword_buiten_works_too(core: Core) -> None:
    ref = amsterdam_leaver(core)
    say(core, "anna", f"/transfer {ref} buiten {CONTACT}")
    assert case(core, ref).state == "closed"


def test_an_in_region_case_is_routed_as_before(core: Core) -> None:
    ref = make_leaver(
        core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11"
    ).ref
    assert {"bram"} <= {m.person_id for m in messages_about(core, ref)}
    assert "anna" not in {m.person_id for m in messages_about(core, ref)}


def test_the_digest_counts_them_apart_without_personal_data(core: Core) -> None:
    make_leaver(core, home_municipality="Zwolle")
    first = amsterdam_leaver(core)
    make_leaver(core, home_municipality="Den Haag", name="Iris Bloem", consent="given")
    say(core, "anna", f"/transfer {first} outside {CONTACT}")

    with session_scope(core.engine) as session:
        figures = weekly.compute(session, core.region)
        reply = weekly.render(translator("en"), core.region, figures, None)
    assert (figures.outside_region, figures.handed_over) == (2, 1)
    assert "Amsterdam" not in figures.by_municipality
    assert "2 leavers live outside the region (handed over to other regions: 1)" in reply.lines
    text = text_of(reply)
    assert "Iris" not in text and CONTACT not in text

    dutch = weekly.render(translator("nl"), core.region, figures, None)
    assert "2 uitstromers wonen buiten de regio (overgedragen aan andere regio's: 1)" in dutch.lines


def test_an_import_takes_a_dutch_municipality_and_refuses_an_unknown_one(core: Core) -> None:
    data = "leerling;woongemeente;onderwijs;uitstroomdatum\n"
    good = run_import(core, data + "O-1;Utrecht;pro;2027-06\nO-2;Den Haag;pro;2027-06\n")
    assert good.ok, good.problems
    assert case_codes(core) == {"O-1": "GM0344", "O-2": "GM0518"}

    bad = run_import(core, data + "O-3;Amsterdm;pro;2027-06\nO-4;Brussel;pro;2027-06\n")
    assert where(bad.problems) == [(2, "woongemeente"), (3, "woongemeente")]
    assert (
        bad.problems[0].message
        == "I don't know Amsterdm as a Dutch municipality or place. Did you mean: Amsterdam?"
    )
    assert bad.problems[1].message.startswith("I don't know Brussel as a Dutch municipality")


def case_codes(core: Core) -> dict[str, str]:
    from tests.core.intake.test_csv_import import cases_of

    return {ref: c.home_municipality_code for ref, c in cases_of(core).items()}


def test_in_the_terminal_in_dutch(core: Core, tmp_path: Path) -> None:
    core.default_language = "nl"
    file = tmp_path / "tussentijds.csv"
    file.write_text(
        "leerling;woongemeente;onderwijs;uitstroomdatum;tussentijds\nT-9;Amsterdam;pro;2026-11;ja\n",
        encoding="utf-8",
    )
    out = chat(core, f"/as sara\n/upload {file}\n")
    assert "1 uitstromer toegevoegd" in out
    out = chat(core, "/as anna\n")
    assert "woont in Amsterdam, buiten de regio" in out
    ref = next(m.case_ref for m in inbox(core, "anna", kind="due"))
    out = chat(core, f"/as anna\n/case {ref}\n")
    out = chat(core, f"/as anna\n/case {ref}\n{number(out, 'Overdragen buiten de regio')}\n")
    assert f"Wie in Amsterdam neemt casus {ref} over?" in out
    out = chat(core, f"/as anna\n/transfer {ref} buiten {CONTACT}\n")
    assert f"Casus {ref} is overgedragen aan Amsterdam ({CONTACT})" in out
    out = chat(core, "/as sara\n")
    assert "woont buiten de regio en is overgedragen aan Amsterdam" in out
