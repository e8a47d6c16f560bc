"""The shared transport layer: what every transport needs and no platform owns.

Where each reply goes and what a failure says (`plan`, the reply plan every transport carries
out with a few primitives), who is speaking and what they may do (`who`), where a reply may be
shown (`privacy`), which commands and buttons continue in the private chat (`conversation`),
paging of long replies (`paging`), pacing per chat (`pacing`), dedupe of a platform's retried
deliveries (`dedupe`) and the outbox delivery loop (`delivery`). Slack, the terminal and
Telegram keep only the translation of their payloads and the rendering of replies.

It lives under `bot/handlers/` rather than in a package of its own because only transports
use it: the core must never import it, and the architecture test that keeps `bot.handlers`
out of `bot/core` already guards that. Submitting a whole form at once is the core's
(`Core.submit_form`), since it is a unit of work, not a transport concern.
"""
