"""Export dialog: mix, stems, video with the mix muxed in, OpenTimelineIO — with progress.

The work runs in a worker thread over a deep copy of the project (the editor stays usable); each
requested output is one progress step, calling `media.export` functions with one shared source cache.
"""
from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from foley_studio.core.project import Project
from foley_studio.core.safepaths import safe_name

log = logging.getLogger(__name__)


class _Signals(QObject):
    step = Signal(int, str)          # steps done, label of the next
    finished = Signal(list, str)     # written paths, error message ("" on success)


def run_exports(project: Project, targets: dict[str, str], progress=None) -> list[Path]:
    """Write each requested output ('mix', 'stems', 'video', 'otio' -> path); Qt-free."""
    from foley_studio.media import export
    from foley_studio.media.mixdown import SourceCache
    sources = SourceCache()
    written: list[Path] = []
    steps = [k for k in ("mix", "stems", "video", "otio") if targets.get(k)]
    for i, kind in enumerate(steps):
        if progress:
            progress(i, kind)
        path = targets[kind]
        if kind == "mix":
            written.append(Path(export.export_mix(project, path, sources=sources)))
        elif kind == "stems":
            written += [Path(p) for p in export.export_stems(project, path, sources=sources)]
        elif kind == "video":
            written.append(Path(export.export_video(project, path, sources=sources)))
        else:
            written.append(Path(export.export_otio(project, path)))
    if progress:
        progress(len(steps), "done")
    return written


class ExportDialog(QDialog):
    """Choose outputs and where they go; export in the background with a progress bar."""

    def __init__(self, project: Project, project_path: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(620)
        self.project = project
        base = (project_path.parent if project_path else Path.home()) / "export"
        stem = safe_name(project_path.stem if project_path else project.name, fallback="untitled")
        self.rows: dict[str, tuple[QCheckBox, QLineEdit]] = {}
        grid = QGridLayout()
        specs = [("mix", "Mix (WAV, 48 kHz 24-bit)", base / f"{stem} mix.wav", True),
                 ("stems", "Stems (one WAV per track, folder)", base / f"{stem} stems", True),
                 ("video", "Video with the mix (stream copied)", base / f"{stem} with foley.mp4",
                  project.video is not None),
                 ("otio", "Timeline (OpenTimelineIO)", base / f"{stem}.otio", True)]
        for row, (key, label, default, enabled) in enumerate(specs):
            box = QCheckBox(label, self)
            box.setChecked(enabled and key in ("mix", "otio", "video"))
            box.setEnabled(enabled)
            edit = QLineEdit(str(default), self)
            browse = QPushButton("…", self)
            browse.setFixedWidth(32)
            browse.clicked.connect(lambda _c=False, k=key: self._browse(k))
            grid.addWidget(box, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
            self.rows[key] = (box, edit)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)
        self._signals = _Signals()
        self._signals.step.connect(self._on_step)
        self._signals.finished.connect(self._on_finished)
        self._thread: threading.Thread | None = None
        self.written: list[Path] = []
        self.error = ""

    def _browse(self, key: str) -> None:
        _box, edit = self.rows[key]
        if key == "stems":
            path = QFileDialog.getExistingDirectory(self, "Stems folder", edit.text())
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", edit.text())
        if path:
            edit.setText(path)

    def targets(self) -> dict[str, str]:
        return {k: edit.text().strip() for k, (box, edit) in self.rows.items() if box.isChecked() and edit.text().strip()}

    def start(self) -> None:
        targets = self.targets()
        if not targets:
            self.status.setText("Tick at least one output.")
            return
        self.export_button.setEnabled(False)
        self.progress.setRange(0, len(targets))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        project = copy.deepcopy(self.project)
        for key in ("mix", "video", "otio"):
            if key in targets:
                Path(targets[key]).parent.mkdir(parents=True, exist_ok=True)

        def work() -> None:
            try:
                written = run_exports(project, targets, lambda i, k: self._signals.step.emit(i, k))
                self._signals.finished.emit([str(p) for p in written], "")
            except Exception as exc:    # FoleyError messages name the file and fix; others are shown as they are
                log.exception("export failed")
                self._signals.finished.emit([], str(exc))

        self._thread = threading.Thread(target=work, name="export", daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 60.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _on_step(self, done: int, kind: str) -> None:
        self.progress.setValue(done)
        self.status.setText("Finishing…" if kind == "done" else f"Exporting {kind}…")

    def _on_finished(self, written: list, error: str) -> None:
        self.export_button.setEnabled(True)
        self.written = [Path(p) for p in written]
        self.error = error
        if error:
            self.status.setText(f"Export failed: {error}")
        else:
            self.progress.setValue(self.progress.maximum())
            self.status.setText("Written:\n" + "\n".join(written))
