"""The terminal chat, driven through standard input as a person would type."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.core.app import Core
from bot.core.replies import Button, Item, Reply
from bot.handlers.terminal import TerminalChat, render
from tests.factories import case, make_leaver

ROOT = Path(__file__).resolve().parent.parent


def chat(core: Core, script: str) -> str:
    out = io.StringIO()
    terminal = TerminalChat(core, io.StringIO(script), out, interactive=False)
    for line in script.splitlines():
        if not terminal.handle(line):
            break
    return out.getvalue()


def test_vangnet_run_with_piped_input_shows_cases_moving(database_url: str, tmp_path: Path) -> None:
    """`vangnet run` with nothing configured: demo region, act as three people, see it move."""
    script = "\n".join(
        [
            "/as bram",  # broker of Kampen; the demo has an urgent early leaver for him
            "/cases",
            "1",  # the first case of the queue: the urgent one
            "1",  # its Claim button
            "/as Mila",  # the school contact who registered that leaver (by name)
            "/as anna",
            "/leavers",
            "/quit",
            "/as nobody-after-quit",
        ]
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "VANGNET_"))
    }
    env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Bram Bakker" in out and "Anna de Vries" in out
    assert "You now own case" in out  # Bram speaks English in the demo region
    # Mila (English too) finds the message the bot sent her while we were Bram.
    after_mila = out.split("Mila Bos", 1)[1]
    assert "was taken over by Bram Bakker" in after_mila
    assert "nobody-after-quit" not in out


def test_numbers_press_the_buttons_last_shown(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    out = chat(core, f"/as wim\n/case {c.ref}\n1\n")
    assert case(core, c.ref).owner_id == "wim"
    assert "[1]" in out


def test_a_number_beyond_the_buttons_is_text_not_a_press(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    chat(core, f"/as wim\n/case {c.ref}\n9\n")
    assert case(core, c.ref).owner_id is None


def test_as_needs_someone_in_the_directory(core: Core) -> None:
    out = chat(core, "/as mallory\n/leavers\n")
    assert "mallory" in out
    assert "── " not in out  # no list shown to nobody


def test_as_with_an_ambiguous_name_offers_a_choice(core: Core) -> None:
    out = chat(core, "/as de\n")  # Anna de Vries, Tim de Groot
    assert "Anna de Vries" in out and "Tim de Groot" in out and "[2]" in out


def test_messages_wait_for_their_person_and_are_shown_once(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    out = chat(core, f"/as wim\n/claim {c.ref}\n/as sara\n/as wim\n/as sara\n")
    sara_first = out.split("Sara Smit", 1)[1].split("Wim Jansen", 1)[0]
    assert c.ref in sara_first
    assert out.count("✉") == 2  # Wim's ping once, Sara's news once: nothing twice


def test_render_numbers_buttons_and_shows_fields() -> None:
    reply = Reply(
        title="Casus K7F2",
        fields=[Item(label="School", value="De Brug")],
        buttons=[
            Button(label="Claimen", action="claim:K7F2"),
            Button(label="Details", action="details:K7F2"),
        ],
    )
    assert render(reply, first_button=3).splitlines() == [
        "── Casus K7F2 ──",
        "  School: De Brug",
        "  [3] Claimen  [4] Details",
    ]


def test_upload_imports_a_csv_for_the_school_contacts_school(core: Core, tmp_path: Path) -> None:
    good = tmp_path / "leerlingen.csv"
    good.write_text(
        "leerling;woongemeente;onderwijs;uitstroomdatum\nAB1;Zwolle;pro;2027-06\nAB2;Kampen;pro;2027-07\n",
        encoding="utf-8",
    )
    out = chat(core, f"/as sara\n/upload {good}\n/leavers\n")
    assert "2 leavers added" in out and "AB1" in out and "AB2" in out
    out = chat(core, f"/as wim\n/upload {good}\n")
    assert "/leaver" in out  # not for a broker
    out = chat(core, f"/as sara\n/upload {tmp_path / 'nope.csv'}\n")
    assert "nope.csv" in out
