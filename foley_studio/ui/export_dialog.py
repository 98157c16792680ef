"""Export dialog: mix, stems, video with the mix muxed in, OpenTimelineIO — with progress and levels.

The dialog only chooses: `session.export.export_project` does the work (one mixdown for the mix
and the video, the chosen audio codec, stereo or mono, the mastering chosen), on a `TaskRunner`
over a copy of the project made here, so the editor stays usable; its progress comes back through
`qt_bridge`. The Levels line measures the mix as it is and as it will be written (peak, true peak,
loudness, clipped samples) in the background, again when the channels or mastering change, and
after the export it reports what was written.
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QGridLayout,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from foley_studio.core.project import Project
from foley_studio.session.export import (CHANNEL_LABELS, DEFAULT_CEILING_DB, LOUDNESS_LABELS, STEP_LABELS,
                                         VIDEO_AUDIO_CODECS, ExportTargets, Levels, Mastering, MasteringReport,
                                         MixAnalysis, default_targets, export_project, make_folders)

from .qt_bridge import TaskRunner

log = logging.getLogger(__name__)


class ExportDialog(QDialog):
    """Choose outputs and where they go; export in the background with a progress bar."""

    def __init__(self, project: Project, project_path: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(620)
        self.project = project
        defaults = default_targets(project, project_path)
        self.rows: dict[str, tuple[QCheckBox, QLineEdit]] = {}
        self.browse_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        specs = [("mix", "Mix (WAV, 48 kHz 24-bit)", True),
                 ("stems", "Stems (one WAV per track, folder)", True),
                 ("video", "Video with the mix (stream copied)", project.video is not None),
                 ("otio", "Timeline (OpenTimelineIO)", True)]
        for row, (key, label, enabled) in enumerate(specs):
            box = QCheckBox(label, self)
            box.setChecked(enabled and key in ("mix", "otio", "video"))
            box.setEnabled(enabled)
            edit = QLineEdit(str(defaults[key]), self)
            browse = QPushButton("Browse…", self)
            browse.setToolTip("Choose the folder" if key == "stems" else "Choose the file")
            browse.clicked.connect(lambda _c=False, k=key: self._browse(k))
            grid.addWidget(box, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
            self.rows[key] = (box, edit)
            self.browse_buttons[key] = browse
        self.codec = QComboBox(self)
        for value, text in VIDEO_AUDIO_CODECS.items():
            self.codec.addItem(text, value)
        self.codec.setEnabled(project.video is not None)
        grid.addWidget(QLabel("Video's audio", self), len(specs), 0)
        grid.addWidget(self.codec, len(specs), 1)
        self.channels = QComboBox(self)
        for value, text in CHANNEL_LABELS.items():
            self.channels.addItem(text + (" (the project's mix bus)" if value == project.mix_channels else ""), value)
        self.channels.setCurrentIndex(self.channels.findData(project.mix_channels))
        self.channels.setToolTip("Stereo: tracks panned, stereo sources kept; mono: one channel, pan ignored. "
                                 "Applies to the mix, the stems and the video's audio")
        grid.addWidget(QLabel("Channels", self), len(specs) + 1, 0)
        grid.addWidget(self.channels, len(specs) + 1, 1)
        self.loudness = QComboBox(self)
        for value, text in LOUDNESS_LABELS.items():
            self.loudness.addItem(text, value)
        self.loudness.setToolTip("Normalise the mix (and the video's audio) to an integrated loudness "
                                 "(ITU-R BS.1770); stems are written as the tracks are")
        self.limiter = QCheckBox(f"True-peak limiter at {DEFAULT_CEILING_DB:.1f} dBTP", self)
        self.limiter.setToolTip("A look-ahead limiter keeps the mix's inter-sample peaks under the ceiling: "
                                "no clipped samples in the file, none made by a player's resampler")
        mastering = QHBoxLayout()
        mastering.addWidget(self.loudness, 1)
        mastering.addWidget(self.limiter)
        grid.addWidget(QLabel("Mastering", self), len(specs) + 2, 0)
        grid.addLayout(mastering, len(specs) + 2, 1)
        self.levels = QLabel("Measuring the mix…", self)
        self.levels.setWordWrap(True)
        self.levels.setTextFormat(Qt.RichText)
        self.levels.setMinimumHeight(5 * self.levels.fontMetrics().lineSpacing())   # room for every line
        self.levels.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        grid.addWidget(QLabel("Levels", self), len(specs) + 3, 0, Qt.AlignTop)
        grid.addWidget(self.levels, len(specs) + 3, 1, 1, 2)
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
        self._runner = TaskRunner(self, "export", latest_wins=False)
        self.written: list[Path] = []
        self.error = ""
        self.report: MasteringReport | None = None      # the latest measurement shown
        self._analysis = MixAnalysis(copy.deepcopy(project))
        self._measuring = TaskRunner(self, "export-levels", latest_wins=True)
        for combo in (self.channels, self.loudness):
            combo.currentIndexChanged.connect(self.measure)
        self.limiter.toggled.connect(self.measure)
        self.measure()

    def _browse(self, key: str) -> None:
        _box, edit = self.rows[key]
        if key == "stems":
            path = QFileDialog.getExistingDirectory(self, "Stems folder", edit.text())
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", edit.text())
        if path:
            edit.setText(path)

    def mastering(self) -> Mastering:
        return Mastering(loudness_lufs=self.loudness.currentData(),
                         ceiling_db=DEFAULT_CEILING_DB if self.limiter.isChecked() else None)

    def targets(self) -> ExportTargets:
        chosen = {k: edit.text().strip() for k, (box, edit) in self.rows.items()
                  if box.isChecked() and edit.text().strip()}
        return ExportTargets(**chosen, audio_codec=self.codec.currentData(), channels=self.channels.currentData(),
                             mastering=self.mastering())

    # -- levels ----------------------------------------------------------------------------------------
    def measure(self) -> None:
        """Measure the mix as it is and as it would be written, in the background (latest choice wins)."""
        analysis, channels, mastering = self._analysis, self.channels.currentData(), self.mastering()
        self.report = None
        self.levels.setText("Measuring the mix…")
        self._measuring.submit(lambda: analysis.report(channels, mastering), self._show_levels,
                               lambda exc: self.levels.setText(f"Cannot measure the mix: {exc}"))

    def levels_ready(self) -> bool:
        return self.report is not None

    def _show_levels(self, report: MasteringReport, written: bool = False) -> None:
        self.report = report
        mastering = self.mastering()
        lines = [f"<b>Mix as it is:</b> {_levels_html(report.before)}"]
        if mastering.active:
            lines.append(f"<b>{'Written' if written else 'As exported'}:</b> {_levels_html(report.after)}"
                         f"<br><span style='color:#8a909b'>({mastering.describe()})</span>")
        if report.after.clipped and not mastering.ceiling_db:
            lines.append("<span style='color:#ff8a80'>The mix clips: lower the faders, or tick the true-peak "
                         "limiter.</span>")
        self.levels.setText("<br>".join(lines))

    def start(self) -> None:
        targets = self.targets()
        if targets.empty:
            self.status.setText("Tick at least one output.")
            return
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        project = copy.deepcopy(self.project)       # rule 1 of qt_bridge: the worker gets its own copy

        def work() -> list[Path]:
            make_folders(targets)
            return export_project(project, targets, progress=lambda done, total, step:
                                  self._runner.post(self._on_step, done, total, step),
                                  on_report=lambda report: self._runner.post(self._show_levels, report, True))
        self._runner.submit(work, self._on_written, self._on_failed)

    def wait(self, timeout: float = 60.0) -> None:
        self._runner.wait(timeout)

    def _on_step(self, done: int, total: int, step: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(f"{STEP_LABELS.get(step, step)}…")

    def _on_written(self, written: list[Path]) -> None:
        self.export_button.setEnabled(True)
        self.written = list(written)
        self.error = ""
        self.progress.setValue(self.progress.maximum())
        self.status.setText("Written:\n" + "\n".join(str(p) for p in written))

    def _on_failed(self, exc: Exception) -> None:
        # FoleyError messages name the file and the fix; others are shown as they are (and logged).
        log.error("export failed: %r", exc)
        self.export_button.setEnabled(True)
        self.written, self.error = [], str(exc)
        self.status.setText(f"Export failed: {exc}")

    def done(self, result: int) -> None:
        self._runner.shutdown(0.0)                  # an export still running finishes on its own
        self._measuring.shutdown(0.0)
        super().done(result)


def _levels_html(levels: Levels) -> str:
    """One short line of levels; clipping in red."""
    def db(value: float) -> str:
        return "-inf" if value == float("-inf") else f"{value:+.1f}"
    loud = f"{levels.loudness_lufs:.1f} LUFS" if levels.loudness_lufs is not None else "-- LUFS"
    text = (f"peak {db(levels.peak_db)} dBFS · true peak {db(levels.true_peak_db)} dBTP · {loud} · "
            f"{levels.clipped} clipped")
    return f"<span style='color:#ff8a80'>{text}</span>" if levels.clipped else text
