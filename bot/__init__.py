"""Vangnet: a chat-ops bot that keeps young people leaving school in view of their region."""

__version__ = "0.1.0"
