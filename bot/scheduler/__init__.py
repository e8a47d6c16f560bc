"""The clock: fixed APScheduler triggers that call the core's sweeps; the working-day calendar."""
