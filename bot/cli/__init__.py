"""The command line (typer): `vangnet …` and `python -m bot …`. The root command and its
options are in `app`; each group of commands (`db`, `scan`, `region`, `keys`, `privacy`) is
a module of its own, added to the root in `app`; `support` is what they share."""
