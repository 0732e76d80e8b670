"""Allows `python -m kftui` where the console script is not on PATH."""

from kftui.cli import main

main()
