"""Files schools really have, sent on Slack (issue 13): an Excel-made Windows-1252 export, a
workbook with the sheet named in the message, a file of another kind, a file over the limit.
Real slack-bolt against the fake Slack API; the file is fetched from the fake's file host."""

from __future__ import annotations

import html

from bot.core.intake.csv_read import MAX_FILE_BYTES
from tests.core.intake.test_school_files import workbook
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import make_file_dm
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import cases, month, nl, nl_n


def answer(slack: SlackRig, channel: str = "D01TIM") -> str:
    """Every text of the last message posted in `channel`, as the person reads it."""
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    texts.append(html.unescape(value))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(slack.fake.posted(channel)[-1].body)
    return "\n".join(texts)


async def test_an_excel_made_windows_1252_export_is_imported_and_the_answer_says_how(
    slack: SlackRig,
) -> None:
    rows = (
        "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Woonplaats;Onderwijs;Uitstroomdatum;"
        "Toestemming;Klas\r\n"
        f"501;Zoë;de;Vries;Zwolle;entree;{month(6)};ja;2A\r\n"
        f"502;Noël;;Bakker;Kampen;entree;{month(7)};ja;2A\r\n"
    )
    slack.fake.files["export.csv"] = rows.encode("cp1252")
    await slack.post(
        make_file_dm(slack.fake.file_url("export.csv"), user="U01TIM", name="export.csv")
    )
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)

    said = answer(slack)
    assert (
        nl_n(
            "{n} leaver added, {updated} already known and updated.",
            "{n} leavers added, {updated} already known and updated.",
            2,
            updated=0,
        )
        in said
    )
    assert (
        nl(
            "Read as {encoding} text, separated by {separator}.",
            encoding="Windows-1252",
            separator=nl("semicolons"),
        )
        in said
    )
    assert "Roepnaam + Tussenvoegsel + Achternaam → " + nl("Name") in said
    assert "Klas" in said
    assert sorted((c.student_ref, c.name) for c in cases(slack.core)) == [
        ("501", "Zoë de Vries"),
        ("502", "Noël Bakker"),
    ]


async def test_a_workbook_with_its_sheet_named_in_the_message(slack: SlackRig) -> None:
    head = ["Leerlingnummer", "Woonplaats", "Onderwijs", "Uitstroomdatum"]
    slack.fake.files["lijst.xlsx"] = workbook(
        ("Info", [["Uitstroom 2027"]]),
        ("Uitstroom", [head, ["W-1", "Zwolle", "entree", month(6)]]),
    )
    url = slack.fake.file_url("lijst.xlsx")
    await slack.post(make_file_dm(url, user="U01TIM", name="lijst.xlsx", text="blad Uitstroom"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)

    assert nl("Read the Excel sheet {sheet}.", sheet="Uitstroom") in answer(slack)
    assert [c.student_ref for c in cases(slack.core)] == ["W-1"]


async def test_a_file_of_another_kind_gets_a_clear_message(slack: SlackRig) -> None:
    slack.fake.files["lijst.pdf"] = b"%PDF-1.5 ..."
    await slack.post(
        make_file_dm(slack.fake.file_url("lijst.pdf"), user="U01TIM", name="lijst.pdf")
    )
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)

    expected = nl("This file is {what}.", what=nl("a PDF file"))
    assert expected in answer(slack)
    assert cases(slack.core) == []


async def test_a_file_over_the_limit_is_not_fetched_and_is_told_so(slack: SlackRig) -> None:
    slack.fake.files["groot.csv"] = b"leerling\n"
    url = slack.fake.file_url("groot.csv")
    await slack.post(make_file_dm(url, user="U01TIM", name="groot.csv", size=MAX_FILE_BYTES + 1))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)

    expected = nl(
        "That file is too large for me: at most {mb} MB. Send the list of this year's leavers "
        "only.",
        mb=5,
    )
    assert expected in answer(slack)
    assert slack.fake.calls_to("files.download") == []


async def test_a_picture_or_a_video_is_refused_by_what_slack_says_of_it_without_fetching(
    slack: SlackRig,
) -> None:
    """Issue 24 item 6: judged by its type and size before it is downloaded (neither is on
    the file host: fetching them would have failed)."""
    shared = [("foto.png", 2048, "an image"), ("uitleg.mp4", 200 * 2**20, "a video")]
    for n, (name, size, what) in enumerate(shared, 1):
        url = slack.fake.file_url(name)
        await slack.post(make_file_dm(url, user="U01TIM", name=name, size=size))
        await eventually(lambda n=n: len(slack.fake.posted("D01TIM")) == n)  # type: ignore[misc]
        expected = nl("This file is {what}.", what=nl(what))
        assert expected in answer(slack)
    assert slack.fake.calls_to("files.download") == []
    assert cases(slack.core) == []


async def test_a_file_that_cannot_be_fetched_is_told_as_such(slack: SlackRig) -> None:
    """Issue 24 item 6: not "Something went wrong"."""
    await slack.post(make_file_dm(slack.fake.file_url("weg.csv"), user="U01TIM", name="weg.csv"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    assert nl("I could not fetch that file from Slack. Please send it again.") in answer(slack)


async def test_the_fixture_files_of_issue_22_sent_on_slack(slack: SlackRig) -> None:
    """A Pro school's CSV with a title row and villages for municipalities imports unedited;
    a Word document named .csv is called a Word document."""
    from tests.core.intake.test_real_school_files import BRUG_CSV, WORD_CSV

    slack.fake.files["uitstroom.csv"] = WORD_CSV.read_bytes()
    url = slack.fake.file_url("uitstroom.csv")
    await slack.post(make_file_dm(url, user="U01TIM", name="uitstroom.csv"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 1)
    assert "Dit bestand is een Word-document, al eindigt de naam op .csv." in answer(slack)

    slack.fake.files["brug.csv"] = BRUG_CSV.read_bytes()
    url = slack.fake.file_url("brug.csv")
    await slack.post(make_file_dm(url, user="U01TIM", name="brug.csv"))
    await eventually(lambda: len(slack.fake.posted("D01TIM")) == 2)
    said = answer(slack)
    assert "7 uitstromers toegevoegd" in said, said
    assert "Nieuwleusen → Dalfsen" in said and "De kolomnamen staan op regel 3" in said
    assert {c.programme for c in cases(slack.core)} == {"entree"}  # Tim's school is Entree
