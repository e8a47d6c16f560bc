"""The Participatiescan's content as a model: scale, groups, themes, factors and knowledge base.

Each part checks itself; :class:`ScanContent` checks the structure (three themes of five
factors, numbered in order, ids used once). Reading the files, and telling what is wrong in
them, is :mod:`bot.core.scan.content`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from bot.region import Language, RegionFileError, RegionPath

THEMES = 3
"""The scan has three themes ..."""
FACTORS_PER_THEME = 5
"""... of five factors each, numbered 1 to 15 in the order of the file."""
MAX_MARKS = 11
"""The most marks a scale may have (from min to max), so that its buttons fit a message."""


class ScanFigure(StrEnum):
    """A figure of the region's own, from Vangnet's cases, that speaks to a factor (shown when
    the factor opens; computed by :mod:`bot.core.scan.figures`)."""

    handover_on_time = "handover_on_time"
    """Continuity: leavers of the last year claimed by a broker before their exit date."""
    waiting_days = "waiting_days"
    """Continuity: days between leaving school and being claimed, for those claimed later."""
    one_owner = "one_owner"
    """Case management: cases claimed in the last year that kept one owner."""
    transfers = "transfers"
    """Case management: transfers in the last year, and how many cases they concern."""
    time_to_claim = "time_to_claim"
    """Case management: days from due to claimed."""


class ScanContentError(RegionFileError):
    """A scan content file cannot be used. ``str()`` is one line for the operator.

    The same shape as the region file's error (``file``, ``line``, ``entry``, ``reason``), e.g.
    ``scan_nl.yaml:42: factor 7: title is missing``; a subclass so that the start can say
    which kind of file it refused.
    """


class ContentProblem(ValueError):
    """A problem raised inside a validator, with its path relative to that model."""

    def __init__(self, path: RegionPath, reason: str) -> None:
        super().__init__(reason)
        self.path: RegionPath = path
        self.reason: str = reason


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Text that says something: not empty, not only spaces."""
Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A stable id such as ``werkend_leren``: lower-case letters, digits and ``_``."""
Whole = Annotated[int, Field(strict=True)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scale(_Entry):
    """The report marks (``min`` to ``max``) and the questions asked with them."""

    min: Whole
    max: Whole
    warmup: Text
    """The warm-up question: one overall mark for the region's joint approach."""
    question: Text
    """What a participant answers with a mark, for every factor's norm."""
    anchors: Text
    """What the ends of the scale mean ("1 = heel slecht, 10 = perfect")."""

    @model_validator(mode="after")
    def _check_range(self) -> Scale:
        if self.min >= self.max:
            raise ContentProblem(("max",), f"max ({self.max}) must be above min ({self.min})")
        if self.max - self.min + 1 > MAX_MARKS:
            raise ContentProblem(
                ("max",), f"{self.max - self.min + 1} marks are too many (at most {MAX_MARKS})"
            )
        return self

    @property
    def marks(self) -> range:
        """Every mark a participant can give, lowest first."""
        return range(self.min, self.max + 1)


class Group(_Entry):
    """One of the groups that take part in a scan (schools, employers, ...)."""

    id: Id
    label: Text
    """Its short name, beside the people seated for it: "Zorg"."""
    description: Text
    """Its name with the original's examples: "Zorg, bijvoorbeeld MEE of jeugdzorg". A
    participant names the group by any word of its label or description."""


class Origin(StrEnum):
    """Where a practice of the knowledge base comes from."""

    kennisbank = "kennisbank"
    """The Participatiescan's own knowledge base (its practices and programmes)."""
    interview = "interview"
    """Named by the Participatiescan's national programme manager in an interview (2018)."""
    region = "region"
    """Another region's practice, from a published article."""
    national = "national"
    """A national arrangement or organisation (a law, UWV, SBB ...)."""


class Practice(_Entry):
    """A good practice, programme or instrument of the knowledge base, once, with the
    factors it helps with."""

    id: Id
    title: Text
    region: Text
    """Where it runs: a labour-market region, a place, or "landelijk"."""
    source: Text
    """Who runs it or where it is described (shown with it)."""
    url: Text | None = None
    """Where it is described (the original's address for the kennisbank's entries)."""
    origin: Origin
    ref: tuple[Text, ...] = ()
    """The entries of the original this one stands for ("praktijkvoorbeelds.csv#8");
    only for the kennisbank's."""
    line: Text
    """What it does, in one or two sentences."""
    factors: tuple[Whole, ...] = Field(min_length=1)
    """The numbers of the factors it helps with."""


class Factor(_Entry):
    """One of the fifteen success factors, with the quality norm the participants mark."""

    number: Whole
    id: Id
    title: Text
    norm: Text
    """The quality norm: the ideal situation the region compares itself with."""
    description: Text
    """What the factor covers, in the project's own words after the original."""
    figures: tuple[ScanFigure, ...] = ()
    """The region's own figures that speak to this factor (most factors have none)."""


class Theme(_Entry):
    """A theme and its factors, in the order they are scanned."""

    id: Id
    title: Text
    factors: tuple[Factor, ...]


class ScanContent(_Entry):
    """The content of the scan in one language. Lookups return ``None`` when nothing matches."""

    version: Whole = Field(ge=1)
    language: Language
    scale: Scale
    follow_up_weeks: Whole = Field(default=6, ge=1, le=52)
    """How many weeks after the scan the owners report progress."""
    improvement_points: Whole = Field(default=3, ge=1, le=5)
    """How many of the weakest factors a theme's results propose as improvement points."""
    groups: tuple[Group, ...] = Field(min_length=1)
    themes: tuple[Theme, ...]
    knowledge_base: tuple[Practice, ...] = Field(min_length=1)
    """The practices, programmes and instruments, each once, mapped to their factors."""

    _file: str | None = PrivateAttr(default=None)
    _root: yaml.Node | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_structure(self) -> ScanContent:
        for problem in self._problems():
            raise problem
        return self

    def _problems(self) -> Iterator[ContentProblem]:
        """Every problem of structure, in the order of the file."""
        for index, group in _duplicates(self.groups):
            yield ContentProblem(("groups", index, "id"), f"id '{group.id}' is used twice")
        if len(self.themes) != THEMES:
            yield ContentProblem(
                ("themes",),
                f"the scan has {THEMES} themes, found {len(self.themes)}",
            )
        for index, theme in _duplicates(self.themes):
            yield ContentProblem(("themes", index, "id"), f"id '{theme.id}' is used twice")
        expected = 1
        numbers: set[int] = set()
        ids: set[str] = set()
        for t_index, theme in enumerate(self.themes):
            if len(theme.factors) != FACTORS_PER_THEME:
                yield ContentProblem(
                    ("themes", t_index, "factors"),
                    f"expected {FACTORS_PER_THEME} factors, found {len(theme.factors)} "
                    f"(the scan has {THEMES * FACTORS_PER_THEME} factors, "
                    f"{FACTORS_PER_THEME} per theme)",
                )
            for f_index, factor in enumerate(theme.factors):
                path: RegionPath = ("themes", t_index, "factors", f_index)
                if factor.number in numbers:
                    yield ContentProblem((*path, "number"), f"number {factor.number} is used twice")
                elif factor.number != expected:
                    yield ContentProblem(
                        (*path, "number"),
                        f"number {factor.number} is out of order, expected {expected} "
                        "(the factors are numbered from 1 in the order of the file)",
                    )
                if factor.id in ids:
                    yield ContentProblem((*path, "id"), f"id '{factor.id}' is used twice")
                numbers.add(factor.number)
                ids.add(factor.id)
                expected = factor.number + 1
        yield from self._knowledge_problems(numbers)

    def _knowledge_problems(self, numbers: set[int]) -> Iterator[ContentProblem]:
        """Each practice once, on factors that exist; each factor with a practice."""
        ids: set[str] = set()
        titles: set[str] = set()
        helped: set[int] = set()
        for index, practice in enumerate(self.knowledge_base):
            path: RegionPath = ("knowledge_base", index)
            if practice.id in ids:
                yield ContentProblem((*path, "id"), f"id '{practice.id}' is used twice")
            if practice.title.casefold() in titles:
                yield ContentProblem((*path, "title"), f"'{practice.title}' is listed twice")
            ids.add(practice.id)
            titles.add(practice.title.casefold())
            for f_index, number in enumerate(practice.factors):
                if number not in numbers:
                    yield ContentProblem(
                        (*path, "factors", f_index), f"there is no factor {number}"
                    )
            if practice.origin == Origin.kennisbank and not practice.ref:
                yield ContentProblem(
                    (*path, "ref"), "an entry of the kennisbank names the original's entry (ref)"
                )
            if practice.origin != Origin.kennisbank and practice.ref:
                yield ContentProblem((*path, "ref"), "only the kennisbank's entries have a ref")
            helped.update(practice.factors)
        for number in sorted(numbers - helped):
            yield ContentProblem(("knowledge_base",), f"no practice helps with factor {number}")

    # -- lookups -------------------------------------------------------------------------

    @property
    def factors(self) -> tuple[Factor, ...]:
        """All factors, in the order they are scanned (by number)."""
        return tuple(factor for theme in self.themes for factor in theme.factors)

    def factor(self, number_or_id: int | str) -> Factor | None:
        """The factor with this number (``7`` or ``"7"``) or id (``"werkend_leren"``)."""
        if isinstance(number_or_id, str) and number_or_id.strip().isdigit():
            number_or_id = int(number_or_id)
        if isinstance(number_or_id, int):
            return next((f for f in self.factors if f.number == number_or_id), None)
        return next((f for f in self.factors if f.id == number_or_id), None)

    def practices_of(self, factor: Factor | int) -> tuple[Practice, ...]:
        """The knowledge base's practices that help with a factor, in the order of the file."""
        number = factor.number if isinstance(factor, Factor) else factor
        return tuple(p for p in self.knowledge_base if number in p.factors)

    def theme(self, theme_id: str) -> Theme | None:
        """The theme with id ``theme_id``."""
        return next((t for t in self.themes if t.id == theme_id), None)

    def factors_of(self, theme_id: str) -> tuple[Factor, ...]:
        """The factors of the theme with id ``theme_id`` (none for an unknown theme)."""
        theme = self.theme(theme_id)
        return theme.factors if theme is not None else ()

    def theme_of(self, factor: Factor | int | str) -> Theme | None:
        """The theme a factor (or a factor's number or id) belongs to."""
        found = factor if isinstance(factor, Factor) else self.factor(factor)
        if found is None:
            return None
        return next((t for t in self.themes if found in t.factors), None)

    def group(self, group_id: str) -> Group | None:
        """The participant group with id ``group_id``."""
        return next((g for g in self.groups if g.id == group_id), None)

    @property
    def file(self) -> str | None:
        """The file this content was read from (``None`` when built in code)."""
        return self._file


def _duplicates(entries: Sequence[Group | Theme]) -> Iterator[tuple[int, Group | Theme]]:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.id in seen:
            yield index, entry
        seen.add(entry.id)
