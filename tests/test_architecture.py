"""The shape of the code: the domain never imports a transport."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "bot" / "core"
TRANSPORTS = ("slack_bolt", "slack_sdk", "telegram", "bot.handlers")


def transport_imports(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {m for m in found if any(m == t or m.startswith(t + ".") for t in TRANSPORTS)}


def test_core_imports_no_transport() -> None:
    offenders = {
        f"{path.relative_to(CORE)}: {module}"
        for path in CORE.rglob("*.py")
        for module in transport_imports(path.read_text(encoding="utf-8"))
    }
    assert not offenders


def test_the_check_would_see_a_transport_import() -> None:
    source = "import telegram\nfrom slack_bolt.async_app import AsyncApp\nimport bot.core.app\n"
    assert transport_imports(source) == {"telegram", "slack_bolt.async_app"}
