"""Transports: each turns platform events into core calls and renders the core's replies."""
