"""The columns of a file of leavers: which names are known (the product's own, in English and
Dutch, and those of student administration exports), which field each gives, a name in parts,
and what the header row of a file says.

Where the export names come from is in the README ("Files schools have").
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from bot.core.i18n import N_, Translator
from bot.core.intake.csv_read import HEADER_SEARCH, RowProblem
from bot.core.intake.fields import FIELDS_BY_NAME

# field name -> (English column, Dutch column, other accepted spellings). The other spellings
# are those of the exports of student administration systems (see README, "Files schools
# have", for where each was found) and of what a school secretary types by hand.
COLUMNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "student_ref": (
        "student_ref",
        "leerling",
        (
            "leerlingnummer",
            "leerlingnr",
            "stamnummer",
            "stamnr",
            "leerling id",
            "deelnemernummer",
            "deelnemersnummer",
            "studentnummer",
            "student number",
        ),
    ),
    "name": ("name", "naam", ("volledige naam", "leerlingnaam", "full name")),
    "birth_year": ("birth_year", "geboortejaar", ("year of birth",)),
    "home_municipality": (
        "home_municipality",
        "woongemeente",
        ("gemeente", "woonplaats", "plaats", "municipality"),
    ),
    "programme": (
        "programme",
        "onderwijs",
        (
            "onderwijssoort",
            "schoolsoort",
            "program",
            "onderwijstype",
            "onderwijsvorm",
            "leerweg",
            "opleiding",
            "opleidingsnaam",
        ),
    ),
    "vso_profile": ("vso_profile", "profiel", ("uitstroomprofiel", "vso profiel")),
    "expected_exit": (
        "expected_exit",
        "uitstroomdatum",
        (
            "verwachte uitstroomdatum",
            "verwachte uitstroom",
            "uitschrijfdatum",
            "datum uitschrijving",
            "einddatum",
            "exit date",
        ),
    ),
    "early_leaver": ("early_leaver", "tussentijds", ("voortijdig",)),
    "destination_wish": ("destination_wish", "bestemming", ("uitstroombestemming",)),
    "consent": ("consent", "toestemming", ()),
    "contact": ("contact", "contactgegevens", ()),
    "notes": ("notes", "opmerkingen", ("opmerking", "bijzonderheden")),
}
# Columns that give part of a field: the parts of a name, and a date of birth.
# part -> (the field it gives, the order of the parts in it, accepted spellings)
PARTS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "first_name": ("name", 0, ("roepnaam", "voornaam", "voornamen", "first name")),
    "infix": ("name", 1, ("tussenvoegsel", "tussenvoegsels", "voorvoegsel", "voorvoegsels")),
    "surname": ("name", 2, ("achternaam", "geslachtsnaam", "last name", "surname")),
    "birth_date": ("birth_year", 0, ("geboortedatum", "date of birth", "birth_date")),
}
REQUIRED_COLUMNS: tuple[str, ...] = (
    "student_ref",
    "home_municipality",
    "programme",
    "expected_exit",
)
# Columns that may hold the programme but say it less plainly than "Onderwijs": an export may
# have several ("Opleiding" and "Leerweg"); the plainest is read, the others are set aside.
# "Leerweg" comes last: in an MBO export it holds BOL or BBL, not the programme.
# Column -> how plainly it says it (0, the plainest, for every other known column).
GIVES_WAY: dict[str, int] = {
    "onderwijstype": 1,
    "onderwijsvorm": 1,
    "opleiding": 2,
    "opleidingsnaam": 3,
    "leerweg": 4,
}
# A required column the file lacks, as the answer describes it: what it holds, and a name an
# export would give it (besides the product's own name).
MISSING: dict[str, tuple[str, str]] = {
    "student_ref": (N_("the student number"), "Leerlingnummer"),
    "home_municipality": (
        N_("the place or municipality where the young person lives"),
        "Woonplaats",
    ),
    "programme": (N_("the programme"), "Opleiding"),
    "expected_exit": (N_("the expected exit date"), "Einddatum"),
}


def _norm(header: str) -> str:
    return "_".join(header.strip().casefold().replace("-", " ").replace("_", " ").split())


_ALIASES: dict[str, str] = {}  # every accepted spelling -> field or part name
_DUTCH: set[str] = set()
for _field, (_en, _nl, _more) in COLUMNS.items():
    for _alias in (_en, _nl, *_more):
        _ALIASES[_norm(_alias)] = _field
    _DUTCH.add(_norm(_nl))
for _part, _given in PARTS.items():
    for _alias in _given[2]:
        _ALIASES[_norm(_alias)] = _part


def is_known_column(header: str) -> bool:
    return _norm(header) in _ALIASES


def find_header(records: list[tuple[int, list[str]]]) -> int:
    """Which of the first records is the header: the first that names two known columns
    (title rows above it, "Verwachte uitstroom 2026-2027", are common); else the first."""
    for index, (_, cells) in enumerate(records[:HEADER_SEARCH]):
        if sum(1 for cell in cells if cell.strip() and is_known_column(cell)) >= 2:
            return index
    return 0


def sheet_named(text: str) -> str | None:
    """The sheet a message sent with a workbook names: "blad Leerlingen", "sheet: Export",
    "--sheet 2026" (Dutch: blad, tabblad, werkblad). None when it names none."""
    words = text.strip().split(maxsplit=1)
    if len(words) == 2 and words[0].casefold().lstrip("-").rstrip(":=") in _SHEET_WORDS:
        return words[1].strip().lstrip(":=").strip() or None
    return None


_SHEET_WORDS = frozenset({"sheet", "blad", "tabblad", "werkblad"})


@dataclass
class Header:
    line: int
    fields: dict[int, str]  # cell index -> field or part name
    written: dict[str, str]  # field or part name -> the column as the file names it
    width: int
    dutch: bool
    ignored: list[str] = field(default_factory=list)  # named columns the import does not know
    # known columns not read: a programme column where a plainer one gives the programme
    set_aside: list[str] = field(default_factory=list)
    unnamed: frozenset[int] = frozenset()  # cell indexes whose header cell is empty

    @property
    def name_in_parts(self) -> bool:
        return "surname" in self.written

    def mapping(self) -> list[tuple[str, str]]:
        """(the columns as written, the field they give), in the file's order."""
        found: dict[str, list[str]] = {}
        for index in sorted(self.fields):
            name = self.fields[index]
            target = PARTS[name][0] if name in PARTS else name
            found.setdefault(target, []).append(self.written[name])
        return [(" + ".join(columns), target) for target, columns in found.items()]

    def column_of(self, t: Translator, name: str) -> str:
        """The column of field `name` as the file names it; the field's name in the reader's
        language when the file has no such column (never the product's internal name)."""
        if name in self.written:
            return self.written[name]
        parts = [self.written[p] for p in PARTS if PARTS[p][0] == name and p in self.written]
        if parts:
            return " + ".join(parts)
        return t(FIELDS_BY_NAME[name].label) if name in FIELDS_BY_NAME else name

    def order(self, name: str) -> int:
        for index, known in self.fields.items():
            if known == name or (known in PARTS and PARTS[known][0] == name):
                return index
        return self.width


def read_header(
    t: Translator, line: int, cells: list[str], *, optional: frozenset[str] = frozenset()
) -> tuple[Header, list[RowProblem]]:
    """The header row: which cell gives which field, and what is wrong with it. A required
    column named in `optional` may be missing (the school's own programme stands in)."""
    problems: list[tuple[int, RowProblem]] = []  # by cell index, to tell them in file order
    fields: dict[int, str] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    set_aside: list[str] = []
    for index, cell in enumerate(cells):
        column = cell.strip()
        if not column:
            continue  # a column without a name: fine as long as it stays empty (see rows)
        name = _ALIASES.get(_norm(column))
        if name is None:
            ignored.append(column)
            continue
        other = _already_given(name, written)
        if other is not None and _rank(other) != _rank(column):
            if _rank(column) > _rank(other):  # "Leerweg" beside "Onderwijs": the plainer one
                set_aside.append(column)
                continue
            del fields[next(i for i, n in fields.items() if n == name)]
            set_aside.append(other)
            other = None
        elif other is not None and _rank(column) > 0:
            set_aside.append(column)  # a second "Opleiding": the first one is read
            continue
        if other is not None:
            message = t("Column {other} already gives this.", other=other)
            problems.append((index, RowProblem(line, column, message)))
        else:
            fields[index] = name
            written[name] = column
    dutch = sum(_norm(c) in _DUTCH for c in written.values()) * 2 > len(written)
    unnamed = frozenset(i for i, cell in enumerate(cells) if not cell.strip())
    header = Header(
        line, fields, written, len(cells), dutch, ignored, set_aside=set_aside, unnamed=unnamed
    )
    if "surname" not in written and any(p in written for p in ("first_name", "infix")):
        parts = ", ".join(written[p] for p in ("first_name", "infix") if p in written)
        problems.append(
            (
                len(cells),
                RowProblem(
                    line,
                    parts,
                    t("A name in parts needs the surname too (a column Achternaam)."),
                ),
            )
        )
    for name in REQUIRED_COLUMNS:
        if name not in written and name not in optional:
            problems.append((len(cells), RowProblem(line, "", _missing(t, name, ignored))))
    problems.sort(key=lambda found: found[0])
    return header, [problem for _, problem in problems]


def _rank(column: str) -> int:
    return GIVES_WAY.get(_norm(column), 0)


def _missing(t: Translator, name: str, ignored: list[str]) -> str:
    """ "The column with the programme is missing (for example 'Opleiding' or 'onderwijs')",
    and which column of the file might be meant."""
    what, export = MISSING[name]
    en, nl, more = COLUMNS[name]
    examples = (en, export) if t.language == "en" else (export, nl)
    message = t(
        "The column with {what} is missing (for example {first} or {second}).",
        what=t(what),
        first=f"'{examples[0]}'",
        second=f"'{examples[1]}'",
    )
    aliases = [_norm(alias) for alias in (en, nl, *more)]
    for column in ignored:
        if difflib.get_close_matches(_norm(column), aliases, n=1, cutoff=0.8):
            return message + " " + t("Is it column {column}?", column=column)
    return message


def _already_given(name: str, written: dict[str, str]) -> str | None:
    """The column that already gives what column `name` would: the same field, the whole of
    a field given in parts (or a part of a field given whole)."""
    if name in written:
        return written[name]
    if name in PARTS:
        target = PARTS[name][0]
        return written.get(target)
    for part, (target, _, _) in PARTS.items():
        if target == name and part in written:
            return written[part]
    return None


def assemble(header: Header, cells: list[str]) -> dict[str, str]:
    """The raw text of each field of one row: the parts of a name joined, a date of birth
    as it is (parsed by `_check_leaver`)."""
    raw: dict[str, str] = {}
    parts: dict[str, list[tuple[int, str]]] = {}
    for index, name in header.fields.items():
        if name in PARTS:
            target, order, _ = PARTS[name]
            if target == "name":
                parts.setdefault(target, []).append((order, cells[index]))
            else:
                raw[name] = cells[index]
        else:
            raw[name] = cells[index]
    for target, pieces in parts.items():
        raw[target] = " ".join(p.strip() for _, p in sorted(pieces) if p.strip())
    return raw
