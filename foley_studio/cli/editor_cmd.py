"""`foley-studio` with no subcommand, and `foley-studio edit [PROJECT_OR_VIDEO]`: open the editor."""
from __future__ import annotations

import argparse
import sys

NO_DISPLAY = ("foley-studio: no display (DISPLAY/WAYLAND_DISPLAY unset and QT_QPA_PLATFORM is not 'offscreen'); "
              "running the headless demo generation instead. Use `foley-studio edit` on a desktop, or set "
              "QT_QPA_PLATFORM=offscreen.")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands; each sets `handler=` to a function(args) -> exit code."""
    edit = sub.add_parser("edit", help="open the editor on a project (.fsproj) or a video; no argument: the demo")
    edit.add_argument("target", nargs="?", help="a .fsproj project or a video file to score")
    edit.set_defaults(handler=edit_handler)


def _display_available() -> bool:
    from foley_studio.ui.app import has_display
    return has_display()


def edit_handler(args: argparse.Namespace) -> int:
    if not _display_available():
        print("foley-studio: no display to open the editor on; set DISPLAY or QT_QPA_PLATFORM=offscreen",
              file=sys.stderr)
        return 2
    from foley_studio.ui.app import run_editor
    return run_editor(args.target)


def default_handler(args: argparse.Namespace) -> int:
    """Open the editor on the demo project; with no display, run the headless demo generation."""
    if _display_available():
        from foley_studio.ui.app import run_editor
        return run_editor(None)
    print(NO_DISPLAY, file=sys.stderr)
    return headless_demo()


def headless_demo() -> int:
    """The generate CLI on the bundled demo (its own defaults), when the engine provides one."""
    from foley_studio.cli import generate_cmd
    handler = getattr(generate_cmd, "demo_handler", None)
    if handler is None:
        parser = argparse.ArgumentParser(prog="foley-studio")
        sub = parser.add_subparsers(dest="command")
        generate_cmd.register(sub)
        if "generate" not in sub.choices:
            print("foley-studio: headless generation is not available in this build yet "
                  "(`foley-studio generate` is missing); open the editor on a machine with a display.",
                  file=sys.stderr)
            return 2
        from foley_studio.core.paths import data_dir
        from foley_studio.session.demo import user_demo_project, user_demo_video
        demo = user_demo_project() or user_demo_video()       # the user's copy: resources/ stay as shipped
        out = data_dir() / "demo_takes"
        print(f"foley-studio: generating demo takes for {demo.name} into {out}", file=sys.stderr)
        args = parser.parse_args(["generate", str(demo), "--prompt", "a mallet striking a metal object",
                                  "--quality", "high", "--out", str(out)])
        return int(args.handler(args) or 0)
    return int(handler(argparse.Namespace()) or 0)
