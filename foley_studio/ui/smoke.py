"""Start-up self-check, used by the packaged app's smoke test (packaging/smoke_test.py).

With `FOLEY_STUDIO_SMOKE=<report.json>` in the environment, the app's launcher calls `arm()` before the
editor starts. Once the main window is visible with the demo project loaded, the check imports every
Foley Studio module and exercises each native library a frozen build tends to lose (Qt plugins, PortAudio,
libsndfile, FFmpeg through PyAV, torch, the MiniLM text encoder through transformers, the bundled model),
writes a JSON report and quits with 0 (all good) or 1. Nothing happens without the variable.

Qt warnings about plugins or libraries that failed to load count as failures: in a frozen app they mean
a file is missing from the bundle, even where Qt falls back to something that still draws.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QtMsgType, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

ENV_REPORT = "FOLEY_STUDIO_SMOKE"
ENV_TIMEOUT = "FOLEY_STUDIO_SMOKE_TIMEOUT"
DEFAULT_TIMEOUT_S = 180.0
BACKGROUND_THREADS = ("library-scan",)      # the first start's demo library scan (LibraryPanel.start_scan)
POLL_MS = 50
# Qt messages that mean a part of Qt could not be loaded from the bundle.
BAD_QT_MESSAGE_WORDS = ("could not load", "cannot load", "failed to load", "could not find the qt platform",
                        "no qt platform plugin", "library not found", "cannot find")


@dataclass
class SmokeReport:
    """What the check found; written as JSON to the path in FOLEY_STUDIO_SMOKE."""

    ok: bool = False
    seconds_to_window: float | None = None     # from `t0` (the launcher's first line) to the shown demo
    seconds_ready: float | None = None         # ... and to the end of the start-up work (demo library scan)
    window_shown_epoch: float | None = None    # time.time() then, so a parent process can time the whole start
    seconds_total: float | None = None
    project_video: str = ""
    checks: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    qt_messages: list[str] = field(default_factory=list)

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)          # the test reads the file only once it is complete


def import_all_modules(package: str = "foley_studio") -> list[str]:
    """Import every submodule of `package`; returns the names imported (raises on the first failure)."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if info.name.endswith(".__main__"):      # importing it would run the app
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names


# ----------------------------------------------------------------------------- checks
def _check_modules() -> str:
    names = import_all_modules()
    if len(names) < 10:      # a PYZ that pkgutil cannot list would pass vacuously
        raise RuntimeError(f"only {len(names)} foley_studio modules were found: {names}")
    return f"{len(names)} modules imported"


def _check_portaudio() -> str:
    import sounddevice
    devices = sounddevice.query_devices()
    return f"{sounddevice.get_portaudio_version()[1]}; {len(devices)} devices"


def _check_libsndfile() -> str:
    import soundfile

    from foley_studio.core.paths import DEMO_LIBRARY_DIR
    from foley_studio.media.audio import read_audio
    flac = min(DEMO_LIBRARY_DIR.glob("*.flac"))
    samples = read_audio(flac, 0, 4800)
    if samples.shape != (4800,):
        raise RuntimeError(f"read {samples.shape=} from {flac.name}, expected (4800,)")
    return f"{soundfile.__libsndfile_version__}; read {flac.name}"


def _check_ffmpeg() -> str:
    import av

    from foley_studio.core.paths import DEMO_DIR
    from foley_studio.media.video import VideoReader
    with VideoReader(DEMO_DIR / "demo_video.mp4") as reader:
        frame = reader.frame_at(1.0)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise RuntimeError(f"decoded {frame.shape=}, expected (H, W, 3)")
    return f"PyAV {av.__version__}, libavcodec {av.library_versions['libavcodec']}; frame {frame.shape}"


def _check_torch() -> str:
    import torch
    x = torch.arange(8, dtype=torch.float32)
    if float(x @ x) != 140.0:
        raise RuntimeError("torch computed a wrong dot product")
    cuda = torch.version.cuda or "none"
    return f"torch {torch.__version__} (CUDA {cuda}, available: {torch.cuda.is_available()})"


def _check_text_encoder() -> str:
    from foley_studio.model.config import TextEncoderConfig
    from foley_studio.model.encoders import build_text_encoder
    encoder = build_text_encoder(TextEncoderConfig(kind="minilm", dim=384))
    tokens, mask = encoder.encode(["footsteps on gravel"])
    if tokens.shape[-1] != 384 or not bool(mask.any()):
        raise RuntimeError(f"MiniLM returned {tokens.shape=}, {mask.shape=}")
    return f"MiniLM through transformers: tokens {tuple(tokens.shape)}"


def _check_models() -> str:
    import torch

    from foley_studio.model.checkpoint import ModelRegistry
    registry = ModelRegistry()
    bundled = [m for m in registry.list() if m.source == "bundled"]
    if not bundled:
        return "no bundled model in this build"
    model = registry.load(bundled[0].name, device="cpu")
    with torch.no_grad():
        z = model.encode_audio(torch.zeros(1, 9600))
    return f"{bundled[0].name}: latents {tuple(z.shape)}"


CHECKS: dict[str, Callable[[], str]] = {
    "modules": _check_modules, "portaudio": _check_portaudio, "libsndfile": _check_libsndfile,
    "ffmpeg": _check_ffmpeg, "torch": _check_torch, "text_encoder": _check_text_encoder, "models": _check_models,
}


def run_checks(report: SmokeReport, checks: dict[str, Callable[[], str]] | None = None) -> None:
    """Run each check, recording its detail or the error (with the failing line) in `report`."""
    for name, check in (CHECKS if checks is None else checks).items():
        try:
            report.checks[name] = check()
        except Exception as exc:        # every failure is reported, not just the first
            where = traceback.extract_tb(exc.__traceback__)[-1]
            report.failures.append(f"{name}: {type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})")


def _busy_threads() -> list[str]:
    """Names of the editor's start-up background threads still running."""
    return [t.name for t in threading.enumerate() if t.name in BACKGROUND_THREADS and t.is_alive()]


def is_bad_qt_message(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in BAD_QT_MESSAGE_WORDS)


# ----------------------------------------------------------------------------- the watcher
class SmokeWatcher:
    """Polls for the main window showing the demo project, then checks, reports and quits."""

    def __init__(self, app: QApplication, report_path: Path, *, t0: float, timeout_s: float,
                 checks: dict[str, Callable[[], str]] | None = None, quit: Callable[[int], None] | None = None):
        self.app, self.report_path, self.t0, self.timeout_s = app, report_path, t0, timeout_s
        self.checks = checks
        # app.exit by default; tests pass their own (exit() outside exec() would stop every later event loop).
        self.quit = quit or app.exit
        self.report = SmokeReport()
        self.timer = QTimer()
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        qInstallMessageHandler(self._on_qt_message)

    def start(self) -> None:
        self.timer.start()

    def _on_qt_message(self, kind: QtMsgType, _context: object, text: str) -> None:
        self.report.qt_messages.append(text)
        if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) and is_bad_qt_message(text):
            self.report.failures.append(f"qt: {text}")

    def demo_window(self) -> object | None:
        """The visible main window whose project is scored against the demo video, if there is one yet."""
        from foley_studio.ui.app import DEMO_VIDEO
        for widget in self.app.topLevelWidgets():
            doc = getattr(widget, "doc", None)
            project = getattr(doc, "project", None)
            video = getattr(getattr(project, "video", None), "path", None)
            if widget.isVisible() and video and Path(video).name == DEMO_VIDEO.name:
                return widget
        return None

    def _poll(self) -> None:
        elapsed = time.perf_counter() - self.t0
        window = self.demo_window()
        if window is None:
            if elapsed > self.timeout_s:
                self.report.failures.append(f"timeout: no main window with the demo project after {elapsed:.0f} s")
                self._finish(None)
            return
        if self.report.seconds_to_window is None:
            self.report.seconds_to_window = round(elapsed, 3)
            self.report.window_shown_epoch = time.time()
            self.report.project_video = str(window.doc.project.video.path)
        # The first start scans the demo library in a background thread that loads torch and transformers;
        # checking (or quitting) while it runs would race it, so wait for it, within the timeout.
        if _busy_threads() and elapsed <= self.timeout_s:
            return
        self.timer.stop()
        self.report.seconds_ready = round(elapsed, 3)
        # Let the window paint once (a broken platform plugin shows up here), then run the checks.
        QTimer.singleShot(0, lambda: self._check_and_finish(window))

    def _check_and_finish(self, window: object) -> None:
        run_checks(self.report, self.checks)
        self._finish(window)

    def _finish(self, window: object | None) -> None:
        self.timer.stop()
        self.report.seconds_total = round(time.perf_counter() - self.t0, 3)
        self.report.ok = not self.report.failures
        self.report.write(self.report_path)
        log.info("smoke check %s: %s", "passed" if self.report.ok else "failed", self.report_path)
        if window is not None and hasattr(window, "shutdown"):
            window.shutdown()     # stop workers without the close prompts
        self.quit(0 if self.report.ok else 1)


def arm(report_path: str | Path, *, t0: float | None = None, timeout_s: float | None = None) -> SmokeWatcher:
    """Create the QApplication the editor will reuse and start watching for the demo window."""
    from foley_studio.ui.app import application
    os.environ.setdefault("FOLEY_STUDIO_NO_PROMPTS", "1")
    if timeout_s is None:
        timeout_s = float(os.environ.get(ENV_TIMEOUT, DEFAULT_TIMEOUT_S))
    watcher = SmokeWatcher(application(), Path(report_path), t0=t0 if t0 is not None else time.perf_counter(),
                           timeout_s=timeout_s)
    watcher.start()
    return watcher


def arm_from_environment(t0: float | None = None) -> SmokeWatcher | None:
    """`arm()` when FOLEY_STUDIO_SMOKE is set; the launcher calls this before the editor starts."""
    path = os.environ.get(ENV_REPORT)
    return arm(path, t0=t0) if path else None
