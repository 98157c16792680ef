"""`foley-studio` with no subcommand, and `foley-studio edit [PROJECT_OR_VIDEO]`: open the editor."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands; each sets `handler=` to a function(args) -> exit code."""


def default_handler(args: argparse.Namespace) -> int:
    """Open the editor on the demo project; with no display, run the headless demo generation."""
    raise NotImplementedError("the editor lands with the editor issue")
