"""`foley-studio`: one entry point; each subcommand family lives in its own module here.

With no subcommand it opens the editor on the bundled demo project (or, with no display, runs the
headless demo generation). User-caused errors (`FoleyError`) print one clear line and exit 2.
"""
from __future__ import annotations

import argparse
import logging
import sys

from foley_studio import __version__
from foley_studio.core.errors import FoleyError

from . import editor_cmd, eval_cmds, generate_cmd, library_cmds, media_cmds, train_cmds

COMMAND_MODULES = (editor_cmd, media_cmds, generate_cmd, library_cmds, train_cmds, eval_cmds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foley-studio", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"foley-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", None) or editor_cmd.default_handler
    try:
        return int(handler(args) or 0)
    except FoleyError as exc:
        print(f"foley-studio: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("foley-studio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
