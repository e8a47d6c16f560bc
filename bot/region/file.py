"""Reading a region file: YAML in, a validated :class:`bot.region.Region` out, or one
:class:`bot.region.RegionFileError` line naming the file, the line, the entry and the reason.

Line numbers come from PyYAML's node tree: a path into the data such as
``("people", 2, "municipality")`` is walked down the composed nodes to the node's start mark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.region import Region, RegionFileError, RegionPath, RegionProblem

DEMO_REGION_PATH: Path = Path(__file__).resolve().parent.parent / "content" / "demo_region.yaml"
"""The bundled demo region ("Regio Zwolle (demo)"), used when no region file is configured."""


# -- loading ---------------------------------------------------------------------------------


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _check_duplicate_keys(node: yaml.Node) -> tuple[yaml.Node, str] | None:
    """Find a mapping that names the same key twice (PyYAML would silently keep the last)."""
    stack: list[yaml.Node] = [node]
    seen_nodes: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                    if key_node.value in keys:
                        return key_node, key_node.value
                    keys.add(key_node.value)
                stack.extend((key_node, value_node))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def locate_node(root: yaml.Node | None, path: RegionPath) -> tuple[int, yaml.Node | None]:
    """The 1-based line of the node at ``path`` and the node itself.

    When the path does not exist (a missing key), the line is that of the nearest parent that
    exists and the node is ``None``. For a mapping key, the line of the key is used (where
    ``key:`` is written).
    """
    if root is None:
        return 1, None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and str(k.value) == str(part)
                ),
                None,
            )
            if match is None:
                return line, None
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line, None
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line, None
    return line, node


def _node_line(root: yaml.Node | None, path: RegionPath) -> int:
    """The 1-based line of ``path`` in the file (see :func:`_locate`)."""
    return locate_node(root, path)[0]


def _data_at(data: Any, path: RegionPath) -> Any:
    for part in path:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_dict or in_list):
            return None
        data = data[part]
    return data


def _render(root: yaml.Node | None, data: Any, path: RegionPath, start: RegionPath = ()) -> str:
    """Render a path as ``people[2] (id: bram)`` (labels for list items that are entries).

    Labels are shown as written in the file (``0166``, not the number YAML made of it).
    """
    text = ""
    for depth in range(len(start), len(path)):
        part = path[depth]
        if isinstance(part, int):
            text += f"[{part}]"
            item = _data_at(data, path[: depth + 1])
            if isinstance(item, dict):
                for label in ("id", "code", "name"):
                    value = item.get(label)
                    if isinstance(value, str | int) and not isinstance(value, bool):
                        node = locate_node(root, (*path[: depth + 1], label))[1]
                        shown = node.value if isinstance(node, yaml.ScalarNode) else value
                        text += f" ({label}: {shown})"
                        break
        else:
            text += f".{part}" if text else str(part)
    return text


_ENTRY_LISTS = ("municipalities", "schools", "people")


def _split_entry(root: yaml.Node | None, data: Any, path: RegionPath) -> tuple[str, str]:
    """Split ``path`` into the entry it belongs to and the field inside that entry."""
    cut = 0
    entry_positions = [
        i
        for i, part in enumerate(path)
        if isinstance(part, int) and isinstance(_data_at(data, path[: i + 1]), dict)
    ]
    if entry_positions:
        cut = entry_positions[-1] + 1
    elif len(path) >= 2 and path[0] in _ENTRY_LISTS and isinstance(path[1], int):
        cut = 2  # an entry that is not a mapping, e.g. "people: [anna]"
    elif path:
        cut = 1
    entry = _render(root, data, path[:cut]) or "region file"
    field = _render(root, data, path, path[:cut]).lstrip(".")
    return entry, field


def describe_value(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def _error_from_validation(
    file: str, root: yaml.Node | None, data: Any, exc: ValidationError
) -> RegionFileError:
    """Translate pydantic's errors into one RegionFileError: the error earliest in the file."""
    candidates: list[tuple[int, int, RegionFileError]] = []
    for order, error in enumerate(exc.errors()):
        loc: RegionPath = tuple(error["loc"])
        kind = error["type"]
        problem = error.get("ctx", {}).get("error")
        if isinstance(problem, RegionProblem):
            path = loc + problem.path
            entry, _ = _split_entry(root, data, path)
            reason = problem.reason
        elif kind in ("extra_forbidden", "missing") and loc:
            path = loc
            entry = _render(root, data, loc[:-1]) or "region file"
            adjective = "unknown" if kind == "extra_forbidden" else "missing required"
            reason = f"{adjective} key '{loc[-1]}'"
        else:
            path = loc
            entry, field = _split_entry(root, data, loc)
            if kind == "value_error":
                message = str(problem) if problem is not None else error["msg"]
            elif kind in ("model_type", "model_attributes_type", "dict_type"):
                message = f"expected a mapping (key: value), got {describe_value(error['input'])}"
            elif kind == "list_type":
                message = f"expected a list, got {describe_value(error['input'])}"
            else:
                msg = error["msg"]
                message = f"{msg[:1].lower()}{msg[1:]}, got {describe_value(error['input'])}"
                node = locate_node(root, path)[1]
                if (
                    kind == "string_type"
                    and isinstance(node, yaml.ScalarNode)
                    and not node.style  # plain (None, or "" from libyaml), not quoted
                    and not isinstance(error["input"], dict | list)
                ):
                    message = (
                        f"{msg[:1].lower()}{msg[1:]}, got {node.value} (YAML does not read it "
                        "as text; put it in quotes)"
                    )
            reason = f"{field}: {message}" if field else message
        line = _node_line(root, path)
        candidates.append((line, order, RegionFileError(file, line, entry, reason)))
    candidates.sort(key=lambda item: (item[0], item[1]))
    return candidates[0][2]


# libyaml's parser when PyYAML has it (its wheels do): a region file of 400 people is read in
# 0.05 s instead of 0.4 s, with the same nodes, line numbers and data
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(
    path: Path | str,
    *,
    document: str = "region file",
    error: type[RegionFileError] = RegionFileError,
) -> tuple[yaml.Node, Any]:
    """Read the YAML file at ``path``: its node tree (for line numbers) and its data.

    Anything that keeps the file from being read -- missing, not UTF-8, not YAML, a key
    written twice, empty -- raises ``error`` (one line: file, line, ``document``, reason).
    """
    path = Path(path)
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(file, None, document, "the file does not exist") from None
    except IsADirectoryError:
        raise error(file, None, document, "this is a directory") from None
    except OSError as exc:
        raise error(file, None, document, f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(file, line, document, "the file is not UTF-8 text") from None

    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            duplicate = _check_duplicate_keys(root)
            if duplicate is not None:
                key_node, key = duplicate
                path_line = key_node.start_mark.line + 1
                raise error(file, path_line, document, f"key '{key}' appears twice")
        data: Any = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "cannot be parsed"
        raise error(file, line, document, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise error(file, 1, document, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()

    if root is None or data is None:
        raise error(file, 1, document, "the file is empty")
    return root, data


def load_region(path: Path | str) -> Region:
    """Read and validate the region file at ``path``.

    Raises :class:`RegionFileError` (one line: file, line, entry, reason) for anything wrong.
    """
    file = str(Path(path))
    root, data = read_yaml(path)
    if not isinstance(data, dict):
        raise RegionFileError(
            file,
            _node_line(root, ()),
            "region file",
            f"expected a mapping of keys (region, municipalities, ...), got {describe_value(data)}",
        )
    try:
        return Region.model_validate(data)
    except ValidationError as exc:
        raise _error_from_validation(file, root, data, exc) from None


def load_demo_region() -> Region:
    """The bundled demo region ("Regio Zwolle (demo)")."""
    return load_region(DEMO_REGION_PATH)
