"""The domain: cases, routing, permissions, audit, commands. Never imports a transport."""
