"""The Participatiescan's content: scale, groups, themes, factors and knowledge base.

The content is data, not code: one file per language, ``bot/content/scan_nl.yaml`` and
``bot/content/scan_en.yaml``, with the same ids, numbers and structure and texts in their own
language. :func:`load_scan_content` gives the packaged content of a language (read once);
:func:`load_scan_file` reads any file; :func:`check_languages_agree` refuses two languages
that differ in ids, numbers or structure; :func:`check_scan_content` does all of it, at start.
The model itself, and the structure it checks, is :mod:`bot.core.scan.model`.

Anything wrong raises :class:`ScanContentError`, one English line for the operator in the
shape of the region file's errors: ``"<file>:<line>: <entry>: <reason>"``, e.g.
``scan_nl.yaml:42: factor 7: title is missing``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.scan.model import (
    FACTORS_PER_THEME,
    THEMES,
    ContentProblem,
    Factor,
    Group,
    Origin,
    Practice,
    Scale,
    ScanContent,
    ScanContentError,
    ScanFigure,
    Theme,
)
from bot.region import Language, RegionPath
from bot.region.file import describe_value, locate_node, read_yaml

__all__ = [
    "CONTENT_DIR",
    "FACTORS_PER_THEME",
    "THEMES",
    "Factor",
    "Group",
    "Origin",
    "Practice",
    "Scale",
    "ScanContent",
    "ScanContentError",
    "ScanFigure",
    "Theme",
    "check_languages_agree",
    "check_scan_content",
    "load_scan_content",
    "load_scan_file",
    "scan_content_path",
]

CONTENT_DIR: Path = Path(__file__).resolve().parents[2] / "content"
"""Where the packaged content files are: ``scan_nl.yaml`` and ``scan_en.yaml``."""

LANGUAGES: tuple[Language, ...] = ("nl", "en")
DEFAULT_LANGUAGE: Language = "nl"

_DOCUMENT = "scan content"


# -- where a problem is: "factor 7", "theme samenwerking", "group care", "scale" ---------------


def _data_at(data: Any, path: RegionPath) -> Any:
    for part in path:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_dict or in_list):
            return None
        data = data[part]
    return data


def _label(data: Any, path: RegionPath, kind: str) -> str | None:
    """``factor 7``, ``theme samenwerking``: the entry at ``path`` by its number or id."""
    item = _data_at(data, path)
    if not isinstance(item, dict):
        return None
    number = item.get("number")
    if kind == "factor" and isinstance(number, int) and not isinstance(number, bool):
        return f"factor {number}"
    if isinstance(item.get("id"), str) and item["id"]:
        return f"{kind} {item['id']}"
    return None


def _factor_label(data: Any, path: RegionPath, t: int, f: int) -> str:
    theme = _label(data, path[:2], "theme") or f"theme {t + 1}"
    return _label(data, path[:4], "factor") or f"{theme}, factor {f + 1}"


def _entry_and_field(data: Any, path: RegionPath) -> tuple[str, RegionPath]:
    """The entry a path is in (``factor 7``) and the rest of the path inside that entry."""
    match path:
        case ("knowledge_base", int(p), *rest):
            return _label(data, path[:2], "practice") or f"practice {p + 1}", tuple(rest)
        case ("themes", int(t), "factors", int(f), *rest):
            return _factor_label(data, path, t, f), tuple(rest)
        case ("themes", int(t), *rest):
            return _label(data, path[:2], "theme") or f"theme {t + 1}", tuple(rest)
        case ("groups", int(g), *rest):
            return _label(data, path[:2], "group") or f"group {g + 1}", tuple(rest)
        case ("scale", *rest):
            return "scale", tuple(rest)
    return _DOCUMENT, path


def _field(path: RegionPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(kind: str, error: Any, root: yaml.Node, path: RegionPath) -> str:
    """What is wrong, in words, for one of pydantic's error kinds."""
    ctx = error.get("ctx", {})
    value = error["input"]
    got = describe_value(value)
    if kind == "string_type":
        node = locate_node(root, path)[1]
        if isinstance(node, yaml.ScalarNode) and not node.style:  # plain, not quoted
            return f"expected text, got {node.value} (YAML does not read it as text; quote it)"
        return f"expected text, got {got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {got}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {got}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, got {got}"
    if kind == "enum":
        known = ", ".join(figure.value for figure in ScanFigure)
        return f"unknown figure {got} (known: {known})"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {got}"
    if kind == "string_pattern_mismatch":
        return f"{got} is not an id (lower-case letters, digits and _, starting with a letter)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {got}"
    msg = str(error["msg"])
    return f"{msg[:1].lower()}{msg[1:]}, got {got}"


def _error_from_validation(
    file: str, root: yaml.Node, data: Any, exc: ValidationError
) -> ScanContentError:
    """Pydantic's errors as one ScanContentError: the one earliest in the file."""
    candidates: list[tuple[int, int, ScanContentError]] = []
    for order, error in enumerate(exc.errors()):
        loc: RegionPath = tuple(error["loc"])
        kind = error["type"]
        problem = error.get("ctx", {}).get("error")
        if isinstance(problem, ContentProblem):
            path = loc + problem.path
            entry, _ = _entry_and_field(data, path)
            reason = problem.reason
        elif kind == "extra_forbidden":
            path = loc
            entry, _ = _entry_and_field(data, loc[:-1])
            reason = f"unknown key '{loc[-1]}'"
        elif kind == "missing":
            path = loc
            entry, inside = _entry_and_field(data, loc)
            reason = f"{_field(inside)} is missing"
        else:
            path = loc
            entry, inside = _entry_and_field(data, loc)
            if kind in ("string_too_short", "too_short") or (
                kind == "string_type" and error["input"] is None
            ):
                reason = f"{_field(inside) or 'the entry'} is empty"
            else:
                message = (
                    str(problem)
                    if kind == "value_error" and problem is not None
                    else _message(kind, error, root, loc)
                )
                reason = f"{_field(inside)}: {message}" if inside else message
        line = locate_node(root, path)[0]
        candidates.append((line, order, ScanContentError(file, line, entry, reason)))
    candidates.sort(key=lambda item: (item[0], item[1]))
    return candidates[0][2]


# -- loading ----------------------------------------------------------------------------------


def scan_content_path(language: Language, directory: Path | None = None) -> Path:
    """The content file of ``language`` in ``directory`` (default: the packaged one)."""
    return (directory if directory is not None else CONTENT_DIR) / f"scan_{language}.yaml"


def load_scan_file(path: Path | str, language: Language) -> ScanContent:
    """Read and validate the scan content file at ``path``, which must be in ``language``.

    Raises :class:`ScanContentError` (one line: file, line, entry, reason) for anything wrong.
    """
    file = str(Path(path))
    root, data = read_yaml(path, document=_DOCUMENT, error=ScanContentError)
    if not isinstance(data, dict):
        raise ScanContentError(
            file,
            locate_node(root, ())[0],
            _DOCUMENT,
            f"expected a mapping of keys (version, language, scale, ...), "
            f"got {describe_value(data)}",
        )
    try:
        content = ScanContent.model_validate(data)
    except ValidationError as exc:
        raise _error_from_validation(file, root, data, exc) from None
    if content.language != language:
        raise ScanContentError(
            file,
            locate_node(root, ("language",))[0],
            _DOCUMENT,
            f"language is '{content.language}', but this is the file for '{language}'",
        )
    content._file = file
    content._root = root
    return content


@functools.cache
def _load_once(path: Path, language: Language) -> ScanContent:
    return load_scan_file(path, language)


def load_scan_content(language: str | None) -> ScanContent:
    """The packaged content in ``language`` (read once); Dutch for a language Vangnet lacks."""
    chosen: Language = next((lang for lang in LANGUAGES if lang == language), DEFAULT_LANGUAGE)
    return _load_once(scan_content_path(chosen), chosen)


# -- the languages agree ----------------------------------------------------------------------


def _shown(value: object) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "none"
    return str(value)


def _differences(nl: ScanContent, en: ScanContent) -> Iterator[tuple[RegionPath, str, Any, Any]]:
    """Where ``en`` differs from ``nl`` in ids, numbers or structure: (path, what, en, nl)."""
    for key in ("version", "follow_up_weeks", "improvement_points"):
        yield (key,), key, getattr(en, key), getattr(nl, key)
    yield ("scale", "min"), "min", en.scale.min, nl.scale.min
    yield ("scale", "max"), "max", en.scale.max, nl.scale.max
    yield ("groups",), "the number of groups", len(en.groups), len(nl.groups)
    for index, (group_en, group_nl) in enumerate(zip(en.groups, nl.groups, strict=False)):
        yield ("groups", index, "id"), "id", group_en.id, group_nl.id
    yield ("themes",), "the number of themes", len(en.themes), len(nl.themes)
    for t, (theme_en, theme_nl) in enumerate(zip(en.themes, nl.themes, strict=False)):
        yield ("themes", t, "id"), "id", theme_en.id, theme_nl.id
        n_en, n_nl = len(theme_en.factors), len(theme_nl.factors)
        yield ("themes", t, "factors"), "the number of factors", n_en, n_nl
        for f, (f_en, f_nl) in enumerate(zip(theme_en.factors, theme_nl.factors, strict=False)):
            path: RegionPath = ("themes", t, "factors", f)
            yield (*path, "number"), "number", f_en.number, f_nl.number
            yield (*path, "id"), "id", f_en.id, f_nl.id
            figures_en = tuple(figure.value for figure in f_en.figures)
            figures_nl = tuple(figure.value for figure in f_nl.figures)
            yield (*path, "figures"), "figures", figures_en, figures_nl
    n_en, n_nl = len(en.knowledge_base), len(nl.knowledge_base)
    yield ("knowledge_base",), "the number of practices", n_en, n_nl
    for p, (p_en, p_nl) in enumerate(zip(en.knowledge_base, nl.knowledge_base, strict=False)):
        at: RegionPath = ("knowledge_base", p)
        yield (*at, "id"), "id", p_en.id, p_nl.id
        yield (*at, "origin"), "origin", p_en.origin.value, p_nl.origin.value
        yield (*at, "ref"), "ref", p_en.ref, p_nl.ref
        yield (*at, "url"), "url", p_en.url, p_nl.url
        yield (*at, "factors"), "factors", p_en.factors, p_nl.factors


def check_languages_agree(nl: ScanContent, en: ScanContent) -> None:
    """Refuse content whose languages differ in ids, numbers or structure.

    The Dutch content is the reference; the error names the English file and line.
    """
    data = en.model_dump(mode="json")
    other = nl.file or "the Dutch content"
    for path, what, mine, theirs in _differences(nl, en):
        if mine != theirs:
            entry, _ = _entry_and_field(data, path)
            line = locate_node(en._root, path)[0] if en._root is not None else None
            raise ScanContentError(
                en.file or "the English content",
                line,
                entry,
                f"{what} is {_shown(mine)} here but {_shown(theirs)} in {other}",
            )


def check_scan_content(directory: Path | None = None) -> dict[Language, ScanContent]:
    """Load the content of every language and check that they agree (done at start).

    ``directory`` defaults to the packaged content (then the result is what
    :func:`load_scan_content` gives later). Raises :class:`ScanContentError`.
    """
    if directory is None:
        contents = {language: load_scan_content(language) for language in LANGUAGES}
    else:
        contents = {
            language: load_scan_file(scan_content_path(language, directory), language)
            for language in LANGUAGES
        }
    check_languages_agree(contents["nl"], contents["en"])
    return contents
