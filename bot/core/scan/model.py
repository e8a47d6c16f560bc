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
    """A figure of the region's own that speaks to a factor (shown next to its results)."""

    handover_claimed_in_time = "handover_claimed_in_time"
    in_view = "in_view"
    structural_place = "structural_place"
    dropouts = "dropouts"


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
    """What a participant answers with a mark, for every factor."""

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


class Practice(_Entry):
    """A good practice or programme in the knowledge base of a factor."""

    title: Text
    source: Text
    """The region or organisation it comes from."""
    line: Text
    """One line on what it does."""


class Factor(_Entry):
    """One of the fifteen quality norms that the participants mark."""

    number: Whole
    id: Id
    title: Text
    description: Text
    """What good looks like, in the project's own words."""
    figures: tuple[ScanFigure, ...] = ()
    """The region's own figures that speak to this factor (most factors have none)."""
    practices: tuple[Practice, ...] = Field(min_length=1)
    """The knowledge base: good practices and programmes."""


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
