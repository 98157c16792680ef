"""Packaging pieces that can be checked without building the app (the build itself: `make package`)."""
from __future__ import annotations

import configparser
import importlib.util
import json
import struct
import threading
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QWidget

import foley_studio
from foley_studio.cli import main as cli_main
from foley_studio.core.paths import REPO_ROOT
from foley_studio.ui import smoke
from foley_studio.ui.about import AboutDialog, ICON_SIZES, app_icon, build_info

PACKAGING = REPO_ROOT / "packaging"
ICONS = REPO_ROOT / "resources" / "icons"


def pyproject_version() -> str:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]


def load_smoke_test_script():
    spec = importlib.util.spec_from_file_location("smoke_test_script", PACKAGING / "smoke_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- version: one source
def test_version_comes_from_pyproject(capsys):
    assert foley_studio.__version__ == pyproject_version()
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"foley-studio {pyproject_version()}"


@pytest.mark.gui
def test_about_dialog_shows_the_version_and_icon(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert dialog.version_label.text() == f"Version {pyproject_version()}"
    assert dialog.windowTitle() == "About Foley Studio"
    info = build_info()
    assert info["Version"] == pyproject_version() and info["Build"] == "Python package"
    sizes = {s.width() for s in app_icon().availableSizes()}
    assert sizes == set(ICON_SIZES)


@pytest.mark.gui
def test_main_window_help_menu_has_about(qtbot):
    from foley_studio.ui.main_window import MainWindow
    window = MainWindow(library_index=None)
    qtbot.addWidget(window)
    qtbot.wait(20)      # let the generate panel start its (deferred) model listing, so shutdown waits for it
    try:
        menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
        assert "Help" in menus
        assert [a.text() for a in menus["Help"].actions()] == ["Keyboard shortcuts…", "About Foley Studio"]
    finally:
        window.shutdown()
        # The generate panel lists models on its own pool; let that finish before the window goes away.
        for pool in [QThreadPool.globalInstance(), *window.findChildren(QThreadPool)]:
            pool.waitForDone(10_000)


# ----------------------------------------------------------------------------- icons and the .desktop entry
def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_pngs_have_their_size(size):
    assert png_size(ICONS / "hicolor" / f"{size}x{size}" / "apps" / "foley-studio.png") == (size, size)


def test_scalable_icon_matches_source():
    assert (ICONS / "hicolor" / "scalable" / "apps" / "foley-studio.svg").read_bytes() == \
        (ICONS / "foley-studio.svg").read_bytes()


def test_desktop_entry_is_complete():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str          # keys are case-sensitive in desktop entries
    parser.read(PACKAGING / "linux" / "foley-studio.desktop")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Foley Studio"
    assert entry["Exec"].split()[0] == entry["TryExec"] == "FoleyStudio"     # install.sh rewrites both
    assert entry["Icon"] == "foley-studio"       # the hicolor icon name
    for key in ("Categories", "MimeType", "Keywords"):
        assert entry[key].endswith(";"), key
    assert "application/x-foley-studio-project" in entry["MimeType"]
    assert "application/x-foley-studio-project" in (PACKAGING / "linux" / "foley-studio-mime.xml").read_text()


# ----------------------------------------------------------------------------- the in-app start-up check
class FakeWindow(QWidget):
    """Stands in for MainWindow: the watcher only looks at .doc.project.video.path and .shutdown()."""

    def __init__(self, video: str):
        super().__init__()
        self.doc = SimpleNamespace(project=SimpleNamespace(video=SimpleNamespace(path=video)))
        self.shut_down = False

    def shutdown(self) -> None:
        self.shut_down = True


@pytest.mark.gui
def test_smoke_watcher_reports_once_the_demo_window_shows(qtbot, qapp, tmp_path):
    report_path = tmp_path / "report.json"
    checks = {"fine": lambda: "all there", "broken": lambda: 1 / 0}
    other = FakeWindow("/videos/other.mp4")
    qtbot.addWidget(other)
    other.show()
    exits: list[int] = []
    watcher = smoke.SmokeWatcher(qapp, report_path, t0=0.0, timeout_s=1e9, checks=checks, quit=exits.append)
    watcher.start()
    qtbot.wait(3 * smoke.POLL_MS)
    assert not report_path.exists()              # a window on another video is not the demo
    demo = FakeWindow("/anywhere/demo_video.mp4")
    qtbot.addWidget(demo)
    demo.show()
    qtbot.waitUntil(report_path.exists, timeout=5000)
    report = json.loads(report_path.read_text())
    assert report["ok"] is False
    assert report["checks"] == {"fine": "all there"}
    assert len(report["failures"]) == 1 and report["failures"][0].startswith("broken: ZeroDivisionError")
    assert report["project_video"] == "/anywhere/demo_video.mp4"
    assert report["seconds_to_window"] > 0 and demo.shut_down and not other.shut_down
    assert exits == [1]


@pytest.mark.gui
def test_smoke_watcher_waits_for_the_library_scan(qtbot, qapp, tmp_path):
    report_path = tmp_path / "report.json"
    release = threading.Event()
    scan = threading.Thread(target=release.wait, name="library-scan", daemon=True)
    scan.start()
    demo = FakeWindow("demo_video.mp4")
    qtbot.addWidget(demo)
    demo.show()
    watcher = smoke.SmokeWatcher(qapp, report_path, t0=0.0, timeout_s=1e9, checks={}, quit=lambda code: None)
    watcher.start()
    qtbot.waitUntil(lambda: watcher.report.seconds_to_window is not None, timeout=5000)
    qtbot.wait(3 * smoke.POLL_MS)
    assert not report_path.exists()          # the window is there, but the scan still runs
    release.set()
    scan.join()
    qtbot.waitUntil(report_path.exists, timeout=5000)
    report = json.loads(report_path.read_text())
    assert report["ok"] and report["seconds_ready"] >= report["seconds_to_window"]


@pytest.mark.gui
def test_smoke_watcher_times_out_without_a_window(qtbot, qapp, tmp_path):
    report_path = tmp_path / "report.json"
    exits: list[int] = []
    watcher = smoke.SmokeWatcher(qapp, report_path, t0=0.0, timeout_s=0.0, checks={}, quit=exits.append)
    watcher.start()
    qtbot.waitUntil(report_path.exists, timeout=5000)
    report = json.loads(report_path.read_text())
    assert not report["ok"] and report["failures"][0].startswith("timeout")
    assert exits == [1] and not watcher.timer.isActive()


def test_bad_qt_messages_are_recognised():
    assert smoke.is_bad_qt_message('Could not load the Qt platform plugin "xcb" in "" even though it was found.')
    assert smoke.is_bad_qt_message("Cannot load library /x/libqxcb.so: (libxcb-cursor.so.0: cannot open)")
    assert not smoke.is_bad_qt_message("QFont::setPointSize: Point size <= 0 (-1), must be greater than 0")


def test_import_all_modules_skips_main_and_finds_the_layers():
    names = smoke.import_all_modules()
    assert "foley_studio.__main__" not in names
    for layer in ("core.project", "media.audio", "engine.pipeline", "ui.smoke", "ui.about"):
        assert f"foley_studio.{layer}" in names


# ----------------------------------------------------------------------------- the smoke test script
def test_smoke_script_lists_what_a_bundle_lacks(tmp_path):
    script = load_smoke_test_script()
    app = tmp_path / "FoleyStudio"
    (app / "_internal").mkdir(parents=True)
    missing = script.bundle_problems(app)
    assert len(missing) == len(script.REQUIRED)
    for rel in script.REQUIRED:
        (app / "_internal" / rel).mkdir(parents=True, exist_ok=True)
    assert script.bundle_problems(app) == []
    (app / "_internal" / "PySide6" / "Qt" / "lib").mkdir(parents=True)
    (app / "_internal" / "PySide6" / "Qt" / "lib" / "libQt6Quick.so.6").write_bytes(b"")
    assert script.bundle_problems(app) == [
        "excluded Qt module still bundled: _internal/PySide6/Qt/lib/libQt6Quick.so.6"]
    assert script.expected_version() == pyproject_version()


def test_smoke_script_environment_keeps_python_installs_out(tmp_path, monkeypatch):
    script = load_smoke_test_script()
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("VIRTUAL_ENV", "/venv")
    env = script.clean_env(tmp_path / "home", tmp_path / "r.json")
    assert "PYTHONPATH" not in env and "VIRTUAL_ENV" not in env
    assert env["QT_QPA_PLATFORM"] == "offscreen" and env["FOLEY_STUDIO_SMOKE"] == str(tmp_path / "r.json")
    assert env["FOLEY_STUDIO_BUNDLED_PORTAUDIO"] == "1"
