"""A scan as a file for the minutes: Markdown, or CSV that opens in Dutch Excel as columns.

The CSV is what Excel on a Dutch Windows reads by a double click: UTF-8 with a byte order
mark (else "één" arrives garbled), semicolons between the cells, a decimal comma in a Dutch
scan's numbers, no empty column at the end. Text a person typed (an action, a note, a name)
that starts with = + - @ (or a tab or carriage return) gets a leading apostrophe, so that
Excel shows it as text and never runs it as a formula (OWASP's "CSV injection"). Both
compare with the previous scan in the same place when there is one.
"""

from __future__ import annotations

import csv
import io

from sqlmodel import Session

from bot.core.i18n import Translator
from bot.core.scan import agenda, results
from bot.core.scan.content import load_scan_content
from bot.store.models import ScanSession

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(text: str) -> str:
    """Text a spreadsheet shows as text, never as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _decimal(t: Translator, value: float, *, sign: bool = False) -> str:
    text = f"{value:+.2f}" if sign else f"{value:.2f}"
    return text.replace(".", ",") if t.language == "nl" else text


def export_rows(session: Session, t: Translator, scan: ScanSession) -> list[list[str]]:
    """The results (with the previous scan's average and the change, when there is one) and
    the agenda as rows: a header, then one row per factor; a header, one row per action."""
    assert scan.id is not None
    content = load_scan_content(scan.language)
    found = results.results_of(session, scan.id)
    previous = results.previous_scan(session, scan)
    before = results.results_of(session, previous.id) if previous and previous.id else {}
    header = [t("part"), t("factor"), t("title"), t("average"), t("spread"), t("votes")]
    if before:
        header += [t("previous scan"), t("change")]
    rows = [header]
    titles = {0: t("Warm-up"), **{f.number: f.title for f in content.factors}}
    for number, title in titles.items():
        result = found.get(number)
        if result is None:
            continue
        row = [
            t("result"),
            str(number),
            neutral(title),
            _decimal(t, result.average),
            _decimal(t, result.spread),
            str(result.votes),
        ]
        if before:
            then = before.get(number)
            row += (
                [_decimal(t, then.average), _decimal(t, result.average - then.average, sign=True)]
                if then is not None
                else ["", ""]
            )
        rows.append(row)
    rows.append(
        [t("part"), t("factor"), t("action"), t("owner"), t("date"), t("status"), t("note")]
    )
    for action in agenda.actions_of(session, scan.id):
        rows.append(
            [
                t("action"),
                str(action.factor),
                neutral(action.text),
                neutral(agenda.owner_name(session, action)),
                action.due.isoformat(),
                agenda.status_of(t, action),
                neutral(action.note or ""),
            ]
        )
    return rows


def export_csv(session: Session, t: Translator, scan: ScanSession) -> str:
    """The rows as CSV for Excel: byte order mark, semicolons, CRLF line ends."""
    buf = io.StringIO()
    buf.write("\ufeff")
    csv.writer(buf, delimiter=";").writerows(export_rows(session, t, scan))
    return buf.getvalue()


def export_markdown(session: Session, t: Translator, scan: ScanSession) -> str:
    assert scan.id is not None
    content = load_scan_content(scan.language)
    found = results.results_of(session, scan.id)
    previous = results.previous_scan(session, scan)
    before = results.results_of(session, previous.id) if previous and previous.id else {}
    out = [
        "# " + t("Participatiescan {id} — {date}", id=scan.id, date=scan.opened_at.date()),
        "",
        "## " + t("Results"),
        "",
    ]
    if previous is not None:
        out += [t("Compared with scan {n}.", n=previous.id), ""]
    titles = {0: t("Warm-up"), **{f.number: f"{f.number}. {f.title}" for f in content.factors}}
    for number, title in titles.items():
        if number in found:
            line = results.result_line(t, found[number], before.get(number))
            out.append(f"- {title}: {line}")
    out += ["", "## " + t("Improvement agenda"), ""]
    actions = agenda.actions_of(session, scan.id)
    out += [f"- {agenda.action_line(session, t, content, a)}" for a in actions] or [
        t("No actions on the agenda yet.")
    ]
    return "\n".join(out) + "\n"
