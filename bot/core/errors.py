"""Refusals the user should read, as opposed to bugs."""

from __future__ import annotations


class Refused(Exception):
    """A command that cannot be done, with a message already in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
