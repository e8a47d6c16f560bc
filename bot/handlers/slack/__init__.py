"""The Slack transport: slack-bolt (async) in HTTP or Socket Mode, Block Kit rendering.

- `render`  — core replies as Block Kit messages, the intake modal and the App Home view
- `inbound` — Slack payloads as typed inbound events (one small pure function per kind)
- `app`     — the bolt AsyncApp: listeners that acknowledge first and call the core after
- `server`  — HTTP endpoints or Socket Mode, and the outbox delivery loop
"""
