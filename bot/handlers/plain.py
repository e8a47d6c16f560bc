"""A reply as plain text: how the terminal chat shows it, and how the command line prints
one (`vangnet digest`). Kept apart from the terminal chat so that the command line does not
load the chat and all it runs."""

from __future__ import annotations

from pathlib import Path

from bot.core.replies import Reply


def render(
    reply: Reply,
    first_button: int = 1,
    image_path: Path | None = None,
    file_path: Path | None = None,
) -> str:
    """Plain text with numbered buttons. Nothing to escape: the terminal has no markup.

    A chart or a file is shown by the path it was saved to, or else by its size."""
    out: list[str] = []
    if reply.title:
        out.append(f"── {reply.title} ──")
    if reply.text:
        out.append(("! " if reply.error else "") + reply.text)
    out += [f"  {item.label}: {item.value}" for item in reply.fields]
    out += [f"  • {line}" for line in reply.lines]
    if reply.image_png is not None and image_path is not None:
        out.append(f"  [{reply.image_title or 'chart'}: {image_path}]")
    elif reply.image_png is not None:
        out.append(f"  [{reply.image_title or 'chart'}: PNG, {len(reply.image_png)} bytes]")
    if reply.file is not None:
        out.append(f"  [{file_path or reply.file_name}: {len(reply.file)} bytes]")
    if reply.buttons:
        out.append(
            "  "
            + "  ".join(f"[{n}] {b.label}" for n, b in enumerate(reply.buttons, start=first_button))
        )
    return "\n".join(out)
