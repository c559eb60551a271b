"""``python -m deescalate``: the command line."""

from .cli import run

run()
