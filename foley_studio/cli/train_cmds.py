"""Subcommands registered by this module (filled in by the issue that owns them)."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands; each sets `handler=` to a function(args) -> exit code."""
