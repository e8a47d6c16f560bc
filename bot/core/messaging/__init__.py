"""Messages that matter: recorded in the outbox (outbox), sent by a transport without loss or
doubles (delivery), and who is told what about a case (notify)."""
