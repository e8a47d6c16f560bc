"""The report of a scan as a PDF, for the minutes and the board (`/scan report`,
`vangnet scan report N`).

What the original Participatiescan mailed to everyone at the table, in one document: the
date and region, who was at the table by group, the results per theme with their chart (and
the previous scan's marks beside them), the weakest factors with the practices that help, the
agenda with owners, dates and how far each action is, and the comparison with the previous
scan in the same place. Made with fpdf2 (see README, design notes), in the scan's language,
with the DejaVu Sans font that comes with matplotlib so every letter of a Dutch name prints.
No personal data of young people is in a scan, so none is in its report.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from bot.core.context import Ctx
from bot.core.i18n import Translator
from bot.core.replies import Reply
from bot.core.scan import agenda, history, results, votes
from bot.core.scan.model import ScanContent
from bot.region import Region
from bot.store import queries
from bot.store.models import ScanParticipant, ScanPoint, ScanSession

FONT = "DejaVu"
THEME_HEIGHT = 118  # mm: a theme's heading, table of five factors and chart
INK, MUTED, ACCENT = (33, 33, 33), (110, 110, 110), (76, 120, 168)


def report(ctx: Ctx, args: str) -> list[Reply]:
    """/scan report [N]: the PDF of the scan open here, the latest one here, or scan N."""
    scan = history.meant(ctx, args)
    t = votes.channel_t(scan)
    return [
        Reply(
            text=t("The report of scan {n} as a PDF, for the minutes and the board.", n=scan.id),
            file=pdf(ctx.session, t, ctx.region, scan),
            file_name=file_name(scan),
            to_place=True,
        )
    ]


def file_name(scan: ScanSession) -> str:
    return f"participatiescan-{scan.id}-{scan.opened_at.date().isoformat()}.pdf"


def _fonts() -> tuple[Path, Path]:
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return ttf / "DejaVuSans.ttf", ttf / "DejaVuSans-Bold.ttf"


class _Document:
    """An A4 page flow with headings, paragraphs, tables and images, in one font."""

    def __init__(self, t: Translator, footer: str) -> None:
        from fpdf import FPDF

        self.t = t
        pdf = FPDF(format="A4")
        regular, bold = _fonts()
        pdf.add_font(FONT, "", str(regular))
        pdf.add_font(FONT, "B", str(bold))
        pdf.set_margins(18, 16, 18)
        pdf.set_auto_page_break(True, margin=18)
        pdf.set_title(footer)
        page = t("page")

        def draw_footer(this: Any = pdf) -> None:
            this.set_y(-12)
            this.set_font(FONT, "", 8)
            this.set_text_color(*MUTED)
            this.cell(0, 5, f"{footer} · {page} {this.page_no()}", align="C")

        pdf.footer = draw_footer  # type: ignore[method-assign]
        pdf.add_page()
        self.pdf = pdf

    def title(self, text: str, sub: str) -> None:
        self.pdf.set_font(FONT, "B", 20)
        self.pdf.set_text_color(*ACCENT)
        self.pdf.multi_cell(0, 10, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FONT, "", 11)
        self.pdf.set_text_color(*MUTED)
        self.pdf.multi_cell(0, 6, sub, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(3)

    def heading(self, text: str, *, size: int = 14, keep: float = 32) -> None:
        """A heading, on a new page unless `keep` mm fit below it (what belongs with it)."""
        if self.pdf.get_y() + keep > self.pdf.h - 18:
            self.pdf.add_page()
        self.pdf.ln(3)
        self.pdf.set_font(FONT, "B", size)
        self.pdf.set_text_color(*ACCENT if size >= 14 else INK)
        self.pdf.multi_cell(
            0, 8 if size >= 14 else 6.5, text, align="L", new_x="LMARGIN", new_y="NEXT"
        )
        self.pdf.ln(1)

    def paragraph(self, text: str, *, size: int = 10, muted: bool = False) -> None:
        self.pdf.set_font(FONT, "", size)
        self.pdf.set_text_color(*(MUTED if muted else INK))
        self.pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def bullet(self, first: str, rest: str = "") -> None:
        self.pdf.set_text_color(*INK)
        self.pdf.set_x(self.pdf.l_margin + 4)
        self.pdf.set_font(FONT, "B", 10)
        self.pdf.multi_cell(0, 5, f"• {first}", align="L", new_x="LMARGIN", new_y="NEXT")
        if rest:
            self.pdf.set_x(self.pdf.l_margin + 7)
            self.pdf.set_font(FONT, "", 9.5)
            self.pdf.multi_cell(0, 4.6, rest, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def labelled(self, label: str, rest: str) -> None:
        """'Label: rest' on one line (or more), the label in bold."""
        self.pdf.set_x(self.pdf.l_margin + 4)
        self.pdf.set_text_color(*INK)
        self.pdf.set_font(FONT, "B", 10)
        self.pdf.write(5.2, label + ": ")
        self.pdf.set_font(FONT, "", 10)
        self.pdf.write(5.2, rest)
        self.pdf.ln(6)

    def table(
        self, rows: list[list[str]], widths: tuple[float, ...], aligns: tuple[str, ...]
    ) -> None:
        from fpdf.fonts import FontFace

        self.pdf.set_font(FONT, "", 9)
        self.pdf.set_text_color(*INK)
        heading = FontFace(emphasis="BOLD", fill_color=(232, 238, 246))
        with self.pdf.table(
            col_widths=widths,
            width=self.pdf.epw,
            headings_style=heading,
            line_height=5,
            padding=1.4,
            text_align=aligns,
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            for row in rows:
                table.row(row)
        self.pdf.ln(3)

    def image(self, png: bytes) -> None:
        from PIL import Image

        width = self.pdf.epw * 0.78
        with Image.open(io.BytesIO(png)) as shown:
            height = width * shown.height / shown.width
        if self.pdf.get_y() + height > self.pdf.h - 18:
            self.pdf.add_page()
        self.pdf.image(io.BytesIO(png), x=self.pdf.l_margin + (self.pdf.epw - width) / 2, w=width)
        self.pdf.ln(3)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def pdf(session: Session, t: Translator, region: Region, scan: ScanSession) -> bytes:
    """The report of `scan` as PDF bytes."""
    assert scan.id is not None
    content = votes.content_of(scan)
    found = results.results_of(session, scan.id)
    previous = results.previous_scan(session, scan)
    before = results.results_of(session, previous.id) if previous and previous.id else {}
    day = history.date_of(t, scan, region.tz)
    doc = _Document(t, t("Participatiescan {region}, {date}", region=region.region, date=day))
    facilitator = queries.person_by_id(session, person_id=scan.facilitator_id)
    sub = t(
        "Scan {n} · {date} · facilitator {name}",
        n=scan.id,
        date=day,
        name=facilitator.name if facilitator else "?",
    )
    if scan.meeting_at is not None:
        sub += "\n" + t(
            "Follow-up meeting: {when}",
            when=agenda.long_date(t, scan.meeting_at.astimezone(region.tz).date())
            + scan.meeting_at.astimezone(region.tz).strftime(", %H:%M"),
        )
    doc.title(t("Participatiescan — {region}", region=region.region), sub)

    doc.heading(t("Who was at the table"))
    seated = _seated(session, scan, content)
    for label, names in seated:
        doc.labelled(label, ", ".join(names))
    if not seated:
        doc.paragraph(t("Nobody was seated for a group."), muted=True)

    doc.heading(t("Results"))
    intro = t(
        "Each participant gave each factor a mark from {low} to {high}: how well does our "
        "region meet it? Per factor the average, the spread (0: everyone agrees) and the "
        "number of votes.",
        low=content.scale.min,
        high=content.scale.max,
    )
    if previous is not None:
        intro += " " + t(
            "The previous scan here (scan {n} of {date}) stands beside it: in the table, and "
            "as a thin grey bar in the charts.",
            n=previous.id,
            date=history.date_of(t, previous, region.tz),
        )
    doc.paragraph(intro, muted=True)
    if 0 in found:
        doc.paragraph(t("Warm-up") + ": " + results.result_line(t, found[0], before.get(0)))
    for theme in content.themes:
        numbers = [f.number for f in theme.factors if f.number in found]
        if not numbers:
            continue
        doc.heading(theme.title, size=12, keep=THEME_HEIGHT)  # its table and chart together
        rows, widths = _results_table(t, content, numbers, found, before)
        doc.table(rows, widths, ("LEFT", *(["RIGHT"] * (len(widths) - 1))))
        shown = [(results.factor_title(content, n), found[n]) for n in numbers]
        weakest = {n for n, _ in _points(session, scan.id)}
        doc.image(results.chart(t, shown, title=theme.title, weakest=weakest, previous=before))

    points = _points(session, scan.id)
    chosen = [n for n, was_chosen in points if was_chosen] or [n for n, _ in points]
    if points:
        doc.heading(t("The weakest factors and what helps"))
        others = [results.factor_title(content, n) for n, _ in points if n not in chosen]
        if others:
            doc.paragraph(
                t("Also proposed as improvement points: {factors}.", factors="; ".join(others)),
                muted=True,
            )
        for number in chosen:
            factor = content.factor(number)
            if factor is None:
                continue
            said = results.factor_title(content, number)
            if number in found:
                said += " — " + t("average {avg}", avg=results.number(t, found[number].average))
            doc.heading(said, size=11)
            for practice in content.practices_of(factor):
                doc.bullet(
                    practice.title, f"{practice.region}: {practice.line} ({practice.source})"
                )

    doc.heading(t("Improvement agenda"))
    actions = agenda.actions_of(session, scan.id)
    if actions:
        rows = [["#", t("Action"), t("Action owner"), t("No later than"), t("Status")]]
        for action in actions:
            rows.append(
                [
                    str(action.factor),
                    action.text + (f"\n{action.note}" if action.note else ""),
                    agenda.owner_name(session, action),
                    agenda.long_date(t, action.due),
                    agenda.status_of(t, action),
                ]
            )
        doc.table(rows, (12, 74, 34, 30, 24), ("CENTER", "LEFT", "LEFT", "LEFT", "LEFT"))
    else:
        doc.paragraph(t("No actions on the agenda yet."), muted=True)
    return doc.bytes()


def _results_table(
    t: Translator,
    content: ScanContent,
    numbers: list[int],
    found: dict[int, results.Result],
    before: dict[int, results.Result],
) -> tuple[list[list[str]], tuple[float, ...]]:
    header = [t("Factor"), t("Average"), t("Spread"), t("Votes")]
    widths: tuple[float, ...] = (104, 25, 23, 22)
    if before:
        header += [t("Previous"), t("Change")]
        widths = (66, 26, 22, 20, 18, 22)
    rows = [header]
    for n in numbers:
        r = found[n]
        row = [
            results.factor_title(content, n),
            results.number(t, r.average),
            results.number(t, r.spread),
            str(r.votes),
        ]
        if before:
            then = before.get(n)
            row += (
                [results.number(t, then.average), results.signed(t, r.average - then.average)]
                if then
                else ["–", "–"]
            )
        rows.append(row)
    return rows, widths


def _seated(
    session: Session, scan: ScanSession, content: ScanContent
) -> list[tuple[str, list[str]]]:
    """Per group (in the content's order), the names of who sat there."""
    by_group: dict[str, list[str]] = {}
    for participant in session.exec(
        select(ScanParticipant).where(ScanParticipant.session_id == scan.id)
    ).all():
        person = queries.person_by_id(session, person_id=participant.person_id)
        by_group.setdefault(participant.group_id, []).append(person.name if person else "?")
    return [(g.label, sorted(by_group[g.id])) for g in content.groups if g.id in by_group]


def _points(session: Session, scan_id: int) -> list[tuple[int, bool]]:
    """The factors proposed as improvement points, and whether each was chosen."""
    return [
        (p.factor, p.chosen)
        for p in session.exec(
            select(ScanPoint).where(ScanPoint.session_id == scan_id).order_by(col(ScanPoint.factor))
        ).all()
    ]
