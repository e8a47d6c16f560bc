"""The guided intake: one question at a time, back, skip, cancel, restart mid-way, summary."""

from __future__ import annotations

from bot.core.app import Core
from bot.core.vocab import CaseState
from bot.store import queries
from bot.store.db import session_scope
from tests.factories import inbox, one, press, say, text_of


def answers(core: Core, person: str, *lines: str) -> str:
    last = ""
    for line in lines:
        last = text_of(one(say(core, person, line)))
    return last


def cases_of(core: Core, school: str) -> list[str]:
    from sqlmodel import select

    from bot.store.models import Case

    with session_scope(core.engine) as session:
        return [c.ref for c in session.exec(select(Case).where(Case.school_id == school))]


def test_the_whole_intake_ends_in_a_summary_and_a_case(core: Core) -> None:
    say(core, "sara", "/leaver")
    summary = answers(
        core, "sara", "AB12", "Kampen", "pro", "nee", "juni 2027", "2009", "werk", "nee"
    )
    assert "AB12" in summary and "Kampen" in summary and "2009" in summary
    done = one(press(core, "sara", "form:confirm"))
    assert not done.error
    (ref,) = cases_of(core, "brug")
    assert ref in done.text


def test_each_answer_is_checked_at_once_and_the_question_repeated(core: Core) -> None:
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    reply = one(say(core, "sara", "Kampn"))
    assert reply.error and "Kampen" in reply.text
    assert reply.buttons[0].action == "form:choose:Kampen"
    reply = one(press(core, "sara", "form:choose:Kampen"))
    assert not reply.error
    assert "form:choose:pro" in [b.action for b in reply.buttons]  # on to the programme


def test_back_goes_to_the_previous_question_keeping_the_answer(core: Core) -> None:
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    reply = one(press(core, "sara", "form:back"))
    assert "AB12" in reply.text  # "Now: AB12"
    reply = one(say(core, "sara", "CD34"))
    assert not reply.error
    say(core, "sara", "Zwolle")
    summary = answers(core, "sara", "pro", "nee", "juni 2027", "skip", "skip", "skip")
    assert "CD34" in summary and "AB12" not in summary


def test_skip_only_for_optional_questions(core: Core) -> None:
    say(core, "sara", "/leaver")
    reply = one(press(core, "sara", "form:skip"))  # the student reference is required
    assert "form:skip" not in [b.action for b in reply.buttons]
    assert reply.text  # says it cannot be skipped
    say(core, "sara", "AB12")
    say(core, "sara", "Zwolle")
    say(core, "sara", "vso")
    reply = one(press(core, "sara", "form:skip"))  # a VSO leaver needs a profile
    assert "form:skip" not in [b.action for b in reply.buttons]


def test_cancel_stops_and_saves_nothing(core: Core) -> None:
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    one(press(core, "sara", "form:cancel"))
    assert cases_of(core, "brug") == []
    reply = one(say(core, "sara", "Zwolle"))  # no conversation any more
    assert "/help" in reply.text


def test_cancel_typed_as_a_command_stops_the_conversation(core: Core) -> None:
    # what a Telegram user types out of habit; the terminal gave "I don't know /cancel"
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    reply = one(say(core, "sara", "/annuleren"))
    assert not reply.error and "nothing" in reply.text.casefold()
    assert cases_of(core, "brug") == []
    assert "/help" in one(say(core, "sara", "Zwolle")).text  # no conversation any more
    # with no conversation it is an unknown command, and words with arguments stay commands
    assert "/cancel" in one(say(core, "sara", "/cancel")).text
    assert one(say(core, "sara", "/stop now")).error


def test_back_typed_as_a_command_goes_back(core: Core) -> None:
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    assert "AB12" in one(say(core, "sara", "/terug")).text


def test_name_and_notes_are_asked_only_with_consent(core: Core) -> None:
    say(core, "sara", "/leaver")
    summary = answers(core, "sara", "AB12", "Zwolle", "pro", "nee", "juni 2027", "skip", "skip")
    assert "?" in summary
    reply = text_of(one(say(core, "sara", "refused")))
    assert "Confirm" in reply or "Bevestigen" in reply  # straight to the summary


def test_a_restart_mid_conversation_continues_where_it_was(core: Core) -> None:
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    say(core, "sara", "Zwolle")
    # the bot restarts: a new engine and core on the same database
    from bot.store.db import make_engine

    restarted = Core(
        engine=make_engine(str(core.engine.url.render_as_string(hide_password=False))),
        region=core.region,
        default_language="nl",
    )
    summary = answers(restarted, "sara", "pro", "ja", "2026-11", "skip", "skip", "skip")
    assert "AB12" in summary and "Zwolle" in summary
    one(press(restarted, "sara", "form:confirm"))
    (ref,) = cases_of(restarted, "brug")
    with session_scope(restarted.engine) as session:
        case = queries.case_by_ref(session, ref=ref)
        assert case is not None and case.state == CaseState.due and case.urgent
    assert [m.kind for m in inbox(restarted, "wim")] == ["due"]
    restarted.engine.dispose()


def test_editing_from_the_summary_changes_one_answer(core: Core) -> None:
    say(core, "sara", "/leaver")
    answers(core, "sara", "AB12", "Zwolle", "pro", "nee", "juni 2027", "skip", "skip", "skip")
    fields = [b.action for b in one(press(core, "sara", "form:edit")).buttons]
    assert "form:edit:home_municipality" in fields
    press(core, "sara", "form:edit:home_municipality")
    summary = text_of(one(say(core, "sara", "Kampen")))
    assert "Kampen" in summary and "AB12" in summary


def test_registering_the_same_student_again_updates_the_case(core: Core) -> None:
    for exit_month in ("juni 2027", "juli 2027"):
        say(core, "sara", "/leaver")
        answers(core, "sara", "AB12", "Zwolle", "pro", "nee", exit_month, "skip", "skip", "skip")
        press(core, "sara", "form:confirm")
    (ref,) = cases_of(core, "brug")
    with session_scope(core.engine) as session:
        case = queries.case_by_ref(session, ref=ref)
        assert case is not None and case.expected_exit.month == 7


def test_only_school_contacts_start_an_intake(core: Core) -> None:
    assert one(say(core, "wim", "/leaver")).error


def test_a_whole_form_is_checked_at_once_as_a_modal_would_send_it(core: Core) -> None:
    from datetime import date

    from sqlmodel import Session

    from bot.core.conversation import check_all
    from bot.core.followup.followups import PLACEMENT_FORM
    from bot.core.i18n import translator
    from bot.core.intake.fields import ParseEnv

    with Session(core.engine) as session:
        env = ParseEnv(t=translator("en"), today=date(2026, 11, 23), session=session)
        values, errors = check_all(
            PLACEMENT_FORM, {"destination": "moved_away", "organisation": "x", "start": ""}, env
        )
    assert values == {"destination": "moved_away"}  # organisation is not asked when moved away
    assert list(errors) == ["start"]


def test_confirm_of_an_earlier_summary_shows_the_answers_as_they_are_now(core: Core) -> None:
    """A Confirm pressed on a summary that is no longer true (an answer was changed after it)
    saves nothing: the summary is shown again as it is now, to be confirmed from there."""
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    say(core, "sara", "Kampen")
    answers(core, "sara", "pro", "nee", "juni 2027", "skip", "skip")
    first = one(say(core, "sara", "skip"))  # the summary
    (old,) = [b.action for b in first.buttons if b.action.startswith("form:confirm")]
    press(core, "sara", "form:edit:home_municipality")
    changed = one(say(core, "sara", "Zwolle"))
    assert "Zwolle" in text_of(changed)
    again = one(press(core, "sara", old))
    assert cases_of(core, "brug") == []
    assert "changed after that summary" in again.text
    assert "Zwolle" in text_of(again) and "Kampen" not in text_of(again)
    (current,) = [b.action for b in again.buttons if b.action.startswith("form:confirm")]
    assert current != old
    done = one(press(core, "sara", current))
    (ref,) = cases_of(core, "brug")
    assert ref in done.text
    with session_scope(core.engine) as session:
        case = queries.case_by_ref(session, ref=ref)
        assert case is not None and case.home_municipality_code == "GM0193"  # Zwolle


def test_summaries_show_the_whole_date_that_will_be_saved(core: Core) -> None:
    """'1 June 2027', never 'June 2027': in the intake, the placement and a correction."""
    from tests.factories import make_leaver

    say(core, "sara", "/leaver")
    summary = answers(core, "sara", "AB12", "Kampen", "pro", "nee", "15 juni 2027", "skip")
    summary = answers(core, "sara", "skip", "skip")
    assert "Expected exit: 15 June 2027" in summary
    press(core, "sara", "form:cancel")

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    say(core, "wim", f"/placed {c.ref}")
    summary = answers(core, "wim", "work_with_support", "Groenbedrijf Zwolle", "2026-12-01")
    assert "Start date: 1 December 2026" in summary

    later = make_leaver(core, expected_exit="2027-06")
    say(core, "sara", f"/edit {later.ref}")
    press(core, "sara", "form:edit:expected_exit")
    summary = text_of(one(say(core, "sara", "2027-07-15")))
    assert "1 June 2027 → 15 July 2027" in summary  # what the correction changes
    assert "Expected exit: 15 July 2027" in summary
