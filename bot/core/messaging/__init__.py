"""Messages that matter: recorded in the outbox (outbox), sent by a transport without loss or
doubles (delivery, attempts, leases), and what a failed send means (verdicts). It knows no
case: who is told what about a case is `bot.core.cases.notify`."""
