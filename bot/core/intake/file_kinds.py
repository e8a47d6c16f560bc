"""What a file someone sent is, from its bytes: a table the import reads (CSV text, an Excel
workbook) or something else, named as people know it ("a Word document", even when its name
ends in .csv), with what to send instead.

A file is what its bytes say, whatever its name: a workbook named .csv is a workbook, text
named .xlsx is the CSV text it is, a PDF named .xlsx a PDF. The name only decides for text
(a .csv, .txt, .tsv or table name is read; another is not) and for an old Office file whose
streams say nothing.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from bot.core.i18n import N_, Translator

TEXT_SUFFIXES = frozenset({"", ".csv", ".txt", ".tsv"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})


def file_kind(data: bytes, filename: str = "") -> str:
    """What the file is, from its bytes (its name only breaks a tie): 'csv' (text), 'xlsx',
    'xls' (Excel 97-2003), or what it is instead: one of KIND_NAMES, or 'other'.

    A file is what its bytes say, whatever its name: a Word document named .csv is a Word
    document, a workbook named .csv a workbook, and text named .xlsx the CSV text it is."""
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # an OLE2 compound file
        return _compound_kind(data, suffix)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        return "html" if not head.startswith(b"<?xml") else "other"
    if b"\x00" in data[:4096]:
        return "other"
    # text: what it is called does not change what it holds
    return "csv" if suffix in TEXT_SUFFIXES | WORKBOOK_SUFFIXES | {".xls"} else "other"


# What a file is instead of a table, as the answer names it.
KIND_NAMES: dict[str, str] = {
    "docx": N_("a Word document"),
    "doc": N_("a Word document"),
    "pptx": N_("a PowerPoint presentation"),
    "ods": N_("an OpenDocument spreadsheet (LibreOffice)"),
    "odt": N_("an OpenDocument text (LibreOffice)"),
    "zip": N_("a zip archive"),
    "pdf": N_("a PDF file"),
    "image": N_("an image"),
    "video": N_("a video"),
    "rtf": N_("a text document (RTF)"),
    "html": N_("a web page (HTML)"),
}
# What a name says a file is, for a file judged before it is fetched (`may_be_a_table`)
KIND_OF_SUFFIX: dict[str, str] = {
    ".docx": "docx", ".doc": "doc", ".pptx": "pptx", ".ppt": "pptx", ".ods": "ods",
    ".odt": "odt", ".zip": "zip", ".pdf": "pdf", ".rtf": "rtf", ".html": "html", ".htm": "html",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image", ".heic": "image",
    ".webp": "image", ".bmp": "image", ".tif": "image", ".tiff": "image", ".mp4": "video",
    ".mov": "video", ".m4v": "video", ".avi": "video", ".webm": "video",
}  # fmt: skip
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"{\\rtf", "rtf"),
)


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, ValueError, KeyError, OSError):
        return "other"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        return "odt"
    return "zip"


def _compound_kind(data: bytes, suffix: str) -> str:
    """An old Office file: its streams name what it is (in UTF-16 in the directory)."""
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    return "xls" if suffix in ("", ".xls") else "other"


def not_a_table(t: Translator, filename: str, kind: str = "other") -> str:
    """What is said of a file that is no table: what it is (a Word document, even when its
    name ends in .csv), and what to send instead."""
    suffix = PurePath(filename).suffix.lower()
    if kind == "other":
        kind = KIND_OF_SUFFIX.get(suffix, kind)
    advice = t(
        "I can read a CSV file or an Excel workbook (.xlsx) of leavers. In Excel, choose Save "
        'As with the file type "CSV UTF-8" or "Excel Workbook".'
    )
    if kind in KIND_NAMES:
        what = t(KIND_NAMES[kind])
        if suffix in TEXT_SUFFIXES | WORKBOOK_SUFFIXES | {".xls"} and suffix:
            said = t(
                "This file is {what}, although its name ends in {suffix}.", what=what, suffix=suffix
            )
        else:
            said = t("This file is {what}.", what=what)
        return said + " " + advice
    return t(
        "I can read a CSV file or an Excel workbook (.xlsx) of leavers{kind}. In Excel, choose "
        'Save As with the file type "CSV UTF-8" or "Excel Workbook".',
        kind=t(" (this is a {suffix} file)", suffix=suffix) if suffix else "",
    )


# What a platform may call a file that can be a table when its name has no suffix
TABLE_HINTS = frozenset({"", "auto", "binary", "text", "csv", "tsv", "xls", "xlsx", "xlsm"})


def may_be_a_table(filename: str, hint: str = "") -> bool:
    """Whether a file can be a CSV file or a workbook, judged from what a platform says of it
    before it is fetched: its name, else the platform's word for its type (`hint`: Slack's
    filetype). A picture or a video is refused without fetching it (`not_a_table`); what the
    bytes are is judged after (`file_kind`)."""
    suffix = PurePath(filename).suffix.lower()
    if suffix:
        return suffix in TEXT_SUFFIXES or suffix in WORKBOOK_SUFFIXES or suffix == ".xls"
    return hint.lower() in TABLE_HINTS
