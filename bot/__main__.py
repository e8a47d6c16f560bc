"""`python -m bot`: the command line of bot/cli/ (the same as `vangnet`)."""

from bot.cli.app import app, main

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
