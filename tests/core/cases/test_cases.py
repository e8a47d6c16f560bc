"""The case and its life: every transition of product.md section 4 and every refusal."""

from __future__ import annotations

import pytest

from bot.core import refs
from bot.core.app import Core
from bot.core.cases import actions, lifecycle
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import translator
from bot.core.vocab import CaseState, Destination
from bot.store import queries
from bot.store.db import session_scope
from bot.store.models import Case
from tests.factories import case, inbox, make_leaver, one, press, say, text_of, trail


def act(core: Core, person_id: str, fn, ref: str, **kwargs):  # type: ignore[no-untyped-def]
    """Run a core case function as `person_id` on case `ref`, in one unit of work."""
    with session_scope(core.engine) as session:
        person = queries.person_by_id(session, person_id=person_id)
        assert person is not None
        ctx = core.ctx(session, person, transport="test", private=True)
        c = queries.case_by_ref(session, ref=ref)
        assert c is not None
        return fn(ctx, c, **kwargs)


def test_a_new_leaver_is_a_forecast_with_a_typeable_reference(core: Core) -> None:
    c = make_leaver(core, expected_exit="2027-06")
    assert c.state == CaseState.forecast
    assert refs.looks_like_ref(c.ref) and len(c.ref) >= 4
    assert [e.action for e in trail(core, c.ref)] == ["register"]
    assert inbox(core, "wim") == []


def test_an_early_leaver_is_due_at_once_urgent_and_pings_the_home_brokers(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    assert c.state == CaseState.due and c.urgent
    for broker in ("wim", "fatima"):  # both brokers of Zwolle
        (msg,) = inbox(core, broker, kind="due")
        assert msg.case_ref == c.ref
        actions = [b["action"] for b in msg.payload["buttons"]]
        assert actions == [f"claim:{c.ref}", f"transfer:{c.ref}", f"details:{c.ref}"]
    assert inbox(core, "bram") == []  # Kampen is not involved


def test_a_leaver_whose_window_is_open_is_due_when_registered(core: Core) -> None:
    c = make_leaver(core, expected_exit="2027-01")  # 13 weeks before is already past
    assert c.state == CaseState.due and not c.urgent


def test_the_school_municipality_broker_is_informed_not_asked(core: Core) -> None:
    # Het Kompas is in Hardenberg; the young person lives in Zwolle.
    c = make_leaver(core, school="kompas", by="joost", early_leaver="yes", expected_exit="2026-11")
    assert [m.kind for m in inbox(core, "wim")] == ["due"]
    (note,) = inbox(core, "henk")
    assert note.kind == "informed" and c.ref in note.payload["text"]
    assert note.payload["buttons"] == []


def test_claim_makes_the_broker_owner_and_tells_the_school_contact(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    reply = one(say(core, "wim", f"/claim {c.ref}"))
    assert not reply.error
    after = case(core, c.ref)
    assert after.state == CaseState.claimed and after.owner_id == "wim"
    (told,) = inbox(core, "sara", kind="claimed")
    assert "Wim Jansen" in told.payload["text"] and c.ref in told.payload["text"]
    assert trail(core, c.ref)[-1].action == "claim"
    assert trail(core, c.ref)[-1].detail["owner_id"] == "wim"


def test_claim_accepts_a_lowercase_reference(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    assert not one(say(core, "wim", f"/claim {c.ref.lower()}")).error
    assert case(core, c.ref).owner_id == "wim"


def test_a_second_claim_is_told_who_has_it(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    reply = one(say(core, "fatima", f"/claim {c.ref}"))
    assert reply.error and "Wim Jansen" in reply.text
    assert case(core, c.ref).owner_id == "wim"
    again = one(say(core, "wim", f"/claim {c.ref}"))  # a second press of the same button
    assert again.error and again.text == f"You have already claimed case {c.ref}."


def test_a_forecast_cannot_be_claimed(core: Core) -> None:
    c = make_leaver(core)
    reply = one(say(core, "wim", f"/claim {c.ref}"))
    assert reply.error
    assert case(core, c.ref).state == CaseState.forecast


def test_the_school_municipality_broker_cannot_claim_for_another_municipality(core: Core) -> None:
    # De Brug is in Zwolle, the young person lives in Kampen: Wim sees it, Bram claims it.
    c = make_leaver(core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11")
    reply = one(say(core, "wim", f"/claim {c.ref}"))
    assert reply.error and "Kampen" in reply.text
    assert case(core, c.ref).state == CaseState.due
    assert not one(say(core, "bram", f"/claim {c.ref}")).error


def test_transfer_to_a_municipality_pings_its_brokers_and_tells_the_school(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    reply = one(say(core, "wim", f"/transfer {c.ref} Kampen verhuisd naar Kampen"))
    assert not reply.error, reply.text
    after = case(core, c.ref)
    assert after.state == CaseState.due and after.owner_id is None
    assert after.responsible_municipality_code == "GM0166"
    assert after.home_municipality_code == "GM0193"  # where they lived stays recorded
    (ping,) = inbox(core, "bram", kind="due")
    assert "Wim Jansen" in ping.payload["text"] and "verhuisd" in ping.payload["text"]
    (told,) = inbox(core, "sara", kind="transferred")
    assert "Bram Bakker" in told.payload["text"]
    assert one(say(core, "bram", f"/claim {c.ref}")).error is False


def test_transfer_to_a_person_only_lets_that_person_claim(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    reply = one(say(core, "wim", f"/transfer {c.ref} @fatima collega heeft ervaring"))
    assert not reply.error, reply.text
    after = case(core, c.ref)
    assert after.assigned_person_id == "fatima"
    assert one(say(core, "wim", f"/claim {c.ref}")).error
    assert not one(say(core, "fatima", f"/claim {c.ref}")).error


def test_transfer_to_a_misspelt_municipality_suggests_and_changes_nothing(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    before = len(trail(core, c.ref))
    reply = one(say(core, "bram", f"/transfer {c.ref} Kampn"))
    assert reply.error  # Bram does not see a Zwolle case at all
    reply = one(say(core, "wim", f"/transfer {c.ref} Kampn"))
    assert reply.error and "Kampen" in reply.text
    assert case(core, c.ref).responsible_municipality_code == "GM0193"
    assert len(trail(core, c.ref)) == before


def test_transfer_without_target_offers_the_municipalities_as_buttons(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    reply = one(say(core, "wim", f"/transfer {c.ref}"))
    actions = [b.action for b in reply.buttons]
    assert f"transfer:{c.ref}:GM0166" in actions and f"transfer:{c.ref}:GM0193" not in actions
    # the 5 other municipalities with a broker, or elsewhere; those without one are named
    assert len(actions) == 6 and actions[-1] == f"outside:{c.ref}"
    assert f"transfer:{c.ref}:GM1896" not in actions  # Zwartewaterland has no broker
    assert "No broker yet (not offered): Hattem, Heerde" in reply.text
    assert "Zwartewaterland" in reply.text


def test_placement_then_follow_ups_reopen_and_close(core: Core) -> None:
    from datetime import date

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    act(
        core,
        "wim",
        actions.record_placement,
        c.ref,
        destination=Destination.work_with_support,
        organisation="Groenbedrijf",
        start=date(2026, 12, 1),
    )
    assert case(core, c.ref).state == CaseState.placed
    act(core, "wim", lambda ctx, cc: lifecycle.apply(ctx, cc, "followup_changed"), c.ref)
    assert case(core, c.ref).state == CaseState.placed
    act(core, "wim", lambda ctx, cc: lifecycle.apply(ctx, cc, "followup_dropped"), c.ref)
    assert case(core, c.ref).state == CaseState.claimed
    assert case(core, c.ref).owner_id == "wim"


def test_the_last_good_follow_up_closes_the_case(core: Core) -> None:
    from datetime import date

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    act(
        core,
        "wim",
        actions.record_placement,
        c.ref,
        destination=Destination.work,
        organisation="X",
        start=date(2026, 12, 1),
    )
    act(core, "wim", lambda ctx, cc: lifecycle.apply(ctx, cc, "followup_ok_last"), c.ref)
    assert case(core, c.ref).state == CaseState.closed


def test_only_the_owner_records_a_placement(core: Core) -> None:
    from datetime import date

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    with pytest.raises(Refused):
        act(
            core,
            "fatima",
            actions.record_placement,
            c.ref,
            destination=Destination.work,
            organisation="X",
            start=date(2026, 12, 1),
        )
    assert case(core, c.ref).state == CaseState.claimed


def test_placed_in_none_is_reported_to_the_doorstroompunt(core: Core) -> None:
    from datetime import date

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    act(
        core,
        "wim",
        actions.record_placement,
        c.ref,
        destination=Destination.none,
        organisation="",
        start=date(2026, 12, 1),
    )
    (report,) = inbox(core, "dirk", kind="doorstroompunt")
    assert c.ref in report.payload["text"]


def test_withdraw_by_the_school_and_not_twice(core: Core) -> None:
    c = make_leaver(core)
    assert not one(say(core, "sara", f"/withdraw {c.ref} blijft op school")).error
    assert case(core, c.ref).state == CaseState.forecast  # not before it is confirmed
    assert not one(press(core, "sara", "form:confirm")).error
    after = case(core, c.ref)
    assert after.state == CaseState.withdrawn and after.closed_reason == "blijft op school"
    reply = one(say(core, "sara", f"/withdraw {c.ref}"))
    assert reply.error
    assert case(core, c.ref).version == after.version


def test_withdrawing_a_claimed_case_tells_its_owner(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    say(core, "sara", f"/withdraw {c.ref} foutief ingevoerd")
    press(core, "sara", "form:confirm")
    assert [m.kind for m in inbox(core, "wim")][-1] == "withdrawn"


def test_close_without_support_needs_a_reason_and_a_claimed_case(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    assert one(say(core, "wim", f"/close {c.ref} geen ondersteuning nodig")).error  # not claimed
    say(core, "wim", f"/claim {c.ref}")
    assert one(say(core, "wim", f"/close {c.ref}")).error  # no reason
    assert case(core, c.ref).state == CaseState.claimed
    assert not one(say(core, "wim", f"/close {c.ref} redt het zelf")).error
    assert case(core, c.ref).state == CaseState.closed


def test_lost_contact_escalates_to_coordinator_and_doorstroompunt(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    assert not one(say(core, "wim", f"/lost {c.ref}")).error
    assert case(core, c.ref).state == CaseState.lost
    assert [m.kind for m in inbox(core, "anna")] == ["lost"]
    assert [m.kind for m in inbox(core, "dirk")] == ["doorstroompunt"]


ALL_STATES = list(CaseState)


@pytest.mark.parametrize("name", sorted(lifecycle.TRANSITIONS))
@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_every_transition_is_checked_against_the_state(name: str, state: CaseState) -> None:
    """The whole table: allowed where product.md draws an arrow, refused with a reason elsewhere."""
    c = Case(ref="K7F2", state=state.value)
    allowed = state in lifecycle.TRANSITIONS[name].sources
    if allowed:
        assert lifecycle.check(translator("en"), c, name).target
    else:
        with pytest.raises(Refused) as refused:
            lifecycle.check(translator("en"), c, name)
        # says which case and the state it is in, in words
        assert "K7F2" in refused.value.message and state.value in refused.value.message


def test_the_transition_table_is_the_diagram() -> None:
    s = CaseState
    drawn = {
        "make_due": ({s.forecast}, s.due),
        "claim": ({s.due}, s.claimed),
        "transfer": ({s.due, s.claimed}, s.due),
        "place": ({s.claimed}, s.placed),
        "followup_ok_last": ({s.placed}, s.closed),
        "followup_changed": ({s.placed}, s.placed),
        "followup_dropped": ({s.placed}, s.claimed),
        "withdraw": ({s.forecast, s.due, s.claimed, s.placed}, s.withdrawn),
        "reopen": ({s.withdrawn}, s.forecast),  # by the coordinator, within retention
        "close_no_support": ({s.claimed}, s.closed),
        "lose_contact": ({s.claimed, s.placed}, s.lost),
        # a young person living outside the region: closed here once handed to that region
        "hand_over_outside": ({s.due, s.claimed}, s.closed),
    }
    assert {k: (set(v.sources), v.target) for k, v in lifecycle.TRANSITIONS.items()} == drawn


def test_a_stale_copy_cannot_overwrite_a_newer_state(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    with session_scope(core.engine) as session:
        stale = queries.case_by_ref(session, ref=c.ref)
    say(core, "wim", f"/claim {c.ref}")
    assert stale is not None and stale.state == CaseState.due
    with session_scope(core.engine) as session:
        person = queries.person_by_id(session, person_id="fatima")
        assert person is not None
        ctx = Ctx(session, core.region, person, "test", "en")
        stale = session.merge(stale, load=False)  # as if read just before Wim's claim
        with pytest.raises(Refused) as refused:
            lifecycle.apply(ctx, stale, "claim", owner_id="fatima")
    assert "Wim Jansen" in refused.value.message
    assert case(core, c.ref).owner_id == "wim"


def test_references_grow_when_short_ones_are_taken() -> None:
    taken = iter([True] * 8 + [False])
    ref = refs.new_ref(lambda _r: next(taken))
    assert len(ref) == 5 and refs.looks_like_ref(ref)
    assert not refs.looks_like_ref("K0O1")  # look-alikes are not in the alphabet


def test_the_card_hides_personal_details_in_a_channel(core: Core) -> None:
    c = make_leaver(
        core,
        consent="given",
        name="Jesse Voorbeeld",
        notes="stage bij hovenier",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    in_channel = text_of(one(say(core, "wim", f"/case {c.ref}", private=False)))
    assert "Jesse" not in in_channel and "hovenier" not in in_channel
    assert "view_personal" not in [e.action for e in trail(core, c.ref)]
    in_dm = text_of(one(say(core, "wim", f"/case {c.ref}")))
    assert "Jesse Voorbeeld" in in_dm and "hovenier" in in_dm
    viewed = [e for e in trail(core, c.ref) if e.action == "view_personal"]
    assert [e.actor_id for e in viewed] == ["wim"]


def test_without_consent_the_card_names_the_school_contact(core: Core) -> None:
    c = make_leaver(core, consent="refused", early_leaver="yes", expected_exit="2026-11")
    card = one(say(core, "wim", f"/case {c.ref}"))
    assert "Sara Smit" in text_of(card)
    assert card.text  # the request to contact the school


def test_audit_events_hold_no_personal_data(core: Core) -> None:
    c = make_leaver(
        core,
        consent="given",
        name="Jesse Voorbeeld",
        contact="06-12345678",
        notes="hovenier",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    say(core, "wim", f"/claim {c.ref}")
    say(core, "wim", f"/case {c.ref}")
    say(core, "wim", f"/transfer {c.ref} Kampen Jesse is verhuisd")
    dump = repr([(e.action, e.detail) for e in trail(core, c.ref)])
    for secret in ("Jesse", "06-12345678", "hovenier"):
        assert secret not in dump


def test_a_broker_cannot_transfer_to_themselves_through_their_own_municipality(
    core: Core,
) -> None:
    """Issue 8 item 4: `/transfer REF Hardenberg` by Henk is refused like `@henk`."""
    c = make_leaver(
        core,
        school="kompas",
        by="joost",
        home_municipality="Hardenberg",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    say(core, "henk", f"/claim {c.ref}")
    before = case(core, c.ref)
    by_name = one(say(core, "henk", f"/transfer {c.ref} @henk"))
    by_municipality = one(say(core, "henk", f"/transfer {c.ref} Hardenberg"))
    assert by_name.error and by_municipality.error
    assert "yourself" in by_name.text and "yourself" in by_municipality.text
    assert case(core, c.ref).version == before.version
    assert len(inbox(core, "henk", kind="due")) == 1  # no second ping to himself


def test_only_the_owner_or_the_coordinator_transfers_an_owned_case(core: Core) -> None:
    """Issue 8 item 9: a colleague cannot take a claimed case away; the owner is told."""
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    before = case(core, c.ref)
    refused = one(say(core, "fatima", f"/transfer {c.ref} Kampen"))
    assert refused.error and "Wim Jansen" in refused.text
    assert one(press(core, "fatima", f"transfer:{c.ref}:GM0166")).error
    assert one(press(core, "fatima", f"transfer:{c.ref}")).error  # no choices offered either
    assert case(core, c.ref).version == before.version and case(core, c.ref).owner_id == "wim"
    assert not one(say(core, "anna", f"/transfer {c.ref} Kampen")).error
    (told,) = inbox(core, "wim", kind="transferred_away")
    assert "Anna de Vries" in told.payload["text"] and "Kampen" in told.payload["text"]


def test_a_transfer_to_where_an_unclaimed_case_already_is_is_refused(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    before = case(core, c.ref)
    refused = one(say(core, "anna", f"/transfer {c.ref} Zwolle"))
    assert refused.error and "already" in refused.text
    assert case(core, c.ref).version == before.version


def test_a_long_transfer_or_close_reason_is_refused(core: Core) -> None:
    """Issue 8 item 7: reasons are forwarded to others; 500 characters at most."""
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    before = case(core, c.ref)
    assert "500" in one(say(core, "wim", f"/transfer {c.ref} Kampen {'x' * 10_000}")).text
    assert "500" in one(say(core, "wim", f"/close {c.ref} {'y' * 501}")).text
    assert case(core, c.ref).version == before.version
    assert inbox(core, "bram") == []
    assert not one(say(core, "wim", f"/transfer {c.ref} Kampen {'x' * 500}")).error
