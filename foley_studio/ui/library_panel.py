"""The library panel: search the SFX index as you type, preview a sound, drag it to the timeline.

`LibraryTableModel` is a plain read-only table over search results (it passes pytest-qt's
`qtmodeltester`); `LibraryPanel` adds the search box, the preview strip, the preview player and
"Add folder…": the index's own scanner runs on a `TaskRunner` worker (the store opens a connection
per thread) with its progress and a Cancel button in the panel. The index itself
(`foley_studio.library`) is Qt-free and is only queried here.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QMimeData, QModelIndex, QPersistentModelIndex, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QStyle, QTableView, QVBoxLayout, QWidget)

from foley_studio.core.project import Project
from foley_studio.core.timebase import SAMPLE_RATE, format_seconds

from .mime import LIBRARY_MIME, LibraryDrag, encode_library_drag
from .qt_bridge import TaskRunner
from .theme import TIMELINE as C
from .widgets import ElidedLabel

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Duration", "Rate", "Description")
SEARCH_LIMIT = 500


def _entry_field(entry: Any, *names: str, default: Any = None) -> Any:
    """Read a field of a library entry (dataclass or mapping) under the first name it has."""
    for name in names:
        if isinstance(entry, dict) and name in entry:
            return entry[name]
        if hasattr(entry, name):
            return getattr(entry, name)
    return default


def entry_to_drag(entry: Any) -> LibraryDrag:
    path = str(_entry_field(entry, "path", default=""))
    return LibraryDrag(path=path, name=str(_entry_field(entry, "name", "title", default=Path(path).stem)),
                       duration=float(_entry_field(entry, "duration", default=0.0) or 0.0),
                       description=str(_entry_field(entry, "description", default="") or ""))


class LibraryTableModel(QAbstractTableModel):
    """Search results: name, duration, sample rate, description; rows drag as library clips."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._entries: list[Any] = []

    def set_entries(self, entries: Sequence[Any]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def entry(self, row: int) -> Any:
        return self._entries[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        col = index.column()
        if role == Qt.DisplayRole:
            if col == 0:
                return entry_to_drag(entry).name
            if col == 1:
                return format_seconds(float(_entry_field(entry, "duration", default=0.0) or 0.0))
            if col == 2:
                rate = _entry_field(entry, "sample_rate", "samplerate", default=None)
                return f"{int(rate) / 1000:g} kHz" if rate else ""
            if col == 3:
                return str(_entry_field(entry, "description", default="") or "")
        if role == Qt.ToolTipRole:
            return str(_entry_field(entry, "path", default=""))
        if role == Qt.TextAlignmentRole and col in (1, 2):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole) -> Any:
        if role == Qt.DisplayRole and orientation == Qt.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return [LIBRARY_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        return encode_library_drag([entry_to_drag(self._entries[r]) for r in rows])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.CopyAction


class PreviewStrip(QWidget):
    """The selected sound's waveform; a click plays it from the clicked point."""

    seek = Signal(float)        # fraction of the sound, 0..1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(56)
        self.setCursor(Qt.PointingHandCursor)
        self._mins = self._maxs = np.zeros(0, np.float32)
        self.position: float | None = None
        self.title = "Select a sound to preview"

    def set_peaks(self, mins: np.ndarray, maxs: np.ndarray, title: str) -> None:
        self._mins, self._maxs, self.title = np.asarray(mins), np.asarray(maxs), title
        self.position = None
        self.update()

    def set_position(self, fraction: float | None) -> None:
        self.position = fraction
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.LeftButton and len(self._mins):
            self.seek.emit(min(max(event.position().x() / max(self.width(), 1), 0.0), 1.0))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor("#17191c"))
        n = len(self._mins)
        if n:
            mid, half = h / 2 + 6, h / 2 - 10
            xs = np.linspace(0, w, n, endpoint=False)
            p.setPen(QPen(QColor(C.waveform), 1))
            lines = [v for x, lo, hi in zip(xs, self._mins, self._maxs)
                     for v in (QPointF(x, mid - hi * half), QPointF(x, mid - min(lo, hi - 0.02) * half))]
            p.drawLines(lines)
        if self.position is not None:
            x = self.position * w
            p.setPen(QPen(QColor(C.playhead), 1.5))
            p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.setPen(QColor("#aab0ba"))
        p.drawText(QRectF(6, 2, w - 12, 14), Qt.AlignLeft | Qt.AlignVCenter, self.title)
        p.end()


class ScanBar(QWidget):
    """A library scan in progress: what it is doing, how far it is, and Cancel (hidden when idle)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = ElidedLabel("", self)
        self.label.setProperty("role", "hint")
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the scan; the sounds read so far stay in the library")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.label, 1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addWidget(self.bar)
        self.hide()

    def show_progress(self, phase: str, done: int, total: int, path: str) -> None:
        name = Path(path).name if path else ""
        if phase == "listing":
            text = f"Looking for sounds in {name}…" if name else "Looking for sounds…"
        elif phase == "reading":
            text = f"Reading {done} of {total}"
        elif phase == "embedding":
            text = f"Describing {done} of {total}"
        else:
            text = "Finishing…"
        self.label.setText(text)
        self.bar.setRange(0, max(total, 0) if phase in ("reading", "embedding") else 0)   # 0, 0: busy
        if phase in ("reading", "embedding"):
            self.bar.setValue(min(done, total))


class LibraryPanel(QWidget):
    """Search box + results table + preview strip over a `LibraryIndex`; "Add folder…" scans one in."""

    statusMessage = Signal(str)
    previewStarted = Signal()      # the window stops timeline playback: one output at a time
    scanFinished = Signal(object)  # the ScanReport (or the exception) of a scan started here

    def __init__(self, index: Any | None = None, player: Any | None = None, parent=None):
        super().__init__(parent)
        self.index = index
        self.player = player              # AudioOutput-like: start(project, start, end=..)/stop()/position()
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText("Search sounds: footsteps gravel, door -creak, duration:<2 …")
        self.search_box.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "hint")
        self.model = LibraryTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragOnly)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        self._size_columns()
        self.preview = PreviewStrip(self)
        self.setMinimumWidth(320)          # name + duration must stay readable beside other docks
        self.add_button = QPushButton("Add folder…", self)
        self.add_button.setToolTip("Add a folder of sounds to the library and index it")
        self.add_button.clicked.connect(self.add_folder_dialog)
        self.scan_bar = ScanBar(self)
        self.scan_bar.cancel_button.clicked.connect(self.cancel_scan)
        self._scanner: TaskRunner | None = None     # one per scan: its thread ends with it
        self._scan_cancel: threading.Event | None = None
        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addWidget(self.count_label)
        folders = QHBoxLayout()               # the search box keeps the whole first row
        folders.addWidget(self.add_button)
        folders.addWidget(self.scan_bar, 1)
        folders.addStretch(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addLayout(folders)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.preview)
        self._debounce = QTimer(self, singleShot=True, interval=120)
        self._debounce.timeout.connect(self.run_search)
        self.search_box.textChanged.connect(lambda _t: self._debounce.start())
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.preview.seek.connect(self.preview_from)
        self.table.doubleClicked.connect(lambda _index: self.preview_from(0.0))
        self._audio: np.ndarray | None = None
        self._playing_timer = QTimer(self, interval=40)
        self._playing_timer.timeout.connect(self._poll_preview)
        self.run_search()

    def _size_columns(self) -> None:
        """Name a fixed start; duration and rate as wide as their longest text or title needs."""
        fm = self.table.fontMetrics()
        pad = 2 * self.style().pixelMetric(QStyle.PM_FocusFrameHMargin) + 18     # cell margins and a little air
        self.table.setColumnWidth(0, 150)
        for col, widest in ((1, format_seconds(599.999)), (2, "88.2 kHz")):
            needed = max(fm.horizontalAdvance(widest), fm.horizontalAdvance(COLUMNS[col])) + pad
            self.table.setColumnWidth(col, needed)

    # -- adding folders ---------------------------------------------------------------------------
    @property
    def scanning(self) -> bool:
        return self._scan_cancel is not None

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of sounds to the library", str(Path.home()))
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str | Path) -> bool:
        """Add `folder` to the index and scan it in the background; False (and why, in the status) if not."""
        if self.index is None:
            self.statusMessage.emit("No library is open (see the status bar at start-up for why)")
            return False
        if self.scanning:
            self.statusMessage.emit("A library scan is running; add the folder when it is done")
            return False
        try:
            added = self.index.add_folder(folder)
        except Exception as exc:        # LibraryError names the folder and the fix
            self.statusMessage.emit(f"Cannot add {folder}: {exc}")
            return False
        self.start_scan([added])
        return True

    def start_scan(self, folders: list[Path] | None = None) -> None:
        """Bring the index up to date with `folders` (None: every library folder) on a worker."""
        if self.index is None or self.scanning:
            return
        cancel = self._scan_cancel = threading.Event()
        index = self.index
        runner = self._scanner = TaskRunner(self, "library-scan", latest_wins=False)

        def work():
            try:
                return index.scan(lambda p: runner.post(self._on_scan_progress, p), folders=folders,
                                  cancel=cancel.is_set)
            finally:
                index.close()          # this worker thread's connection
        self.scan_bar.show_progress("listing", 0, 0, str(folders[0]) if folders else "")
        self.scan_bar.cancel_button.setEnabled(True)
        self.scan_bar.show()
        self.add_button.setEnabled(False)
        runner.submit(work, self._on_scan_done, self._on_scan_failed)

    def cancel_scan(self) -> None:
        if self._scan_cancel is not None:
            self._scan_cancel.set()
            self.scan_bar.label.setText("Cancelling after the current batch…")
            self.scan_bar.cancel_button.setEnabled(False)

    def wait_scan(self, timeout_s: float = 60.0) -> bool:
        return self._scanner is None or self._scanner.wait(timeout_s)

    def _on_scan_progress(self, progress: Any) -> None:
        if self.scanning and not self._scan_cancel.is_set():
            self.scan_bar.show_progress(progress.phase, progress.done, progress.total, progress.path)

    def _scan_ended(self) -> None:
        if self._scanner is not None:
            self._scanner.shutdown(0.0)        # the work is over; the thread leaves its loop
        self._scan_cancel = None
        self.scan_bar.hide()
        self.add_button.setEnabled(True)

    def _on_scan_done(self, report: Any) -> None:
        self._scan_ended()
        kept = report.added + report.updated
        skipped = f", {len(report.skipped)} unreadable skipped" if report.skipped else ""
        if report.cancelled:
            self.statusMessage.emit(f"Library scan cancelled: {kept} sound{'s' if kept != 1 else ''} indexed "
                                    f"before it stopped{skipped}")
        elif kept:
            self.statusMessage.emit(f"Library: {kept} sound{'s' if kept != 1 else ''} indexed{skipped}")
        else:
            self.statusMessage.emit(f"Library up to date: {len(self.index)} sounds{skipped}")
        self.run_search()
        self.scanFinished.emit(report)

    def _on_scan_failed(self, exc: Exception) -> None:
        log.error("library scan failed: %r", exc)
        self._scan_ended()
        self.statusMessage.emit(f"Library scan failed: {exc}")
        self.scanFinished.emit(exc)

    def shutdown(self) -> None:
        """Stop the preview and a running scan (it stops after its current batch)."""
        self.stop_preview()
        if self._scan_cancel is not None:
            self._scan_cancel.set()
        if self._scanner is not None:
            self._scanner.shutdown(10.0)

    def set_index(self, index: Any) -> None:
        self.index = index
        self.run_search()

    def run_search(self) -> None:
        self.add_button.setEnabled(self.index is not None and not self.scanning)
        if self.index is None:
            self.model.set_entries([])
            self.count_label.setText("no library")
            return
        query = self.search_box.text().strip()
        try:
            entries = self.index.search(query, SEARCH_LIMIT)
        except Exception as exc:   # a malformed query is the user's to fix: say why, keep the old results
            self.count_label.setText("query error")
            self.statusMessage.emit(f"Library search: {exc}")
            return
        self.model.set_entries(entries)
        self.count_label.setText(f"{len(entries)} sound{'s' if len(entries) != 1 else ''}")

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        self.stop_preview()
        entry = self.model.entry(current.row())
        drag = entry_to_drag(entry)
        try:
            from foley_studio.library.preview import load_preview
            audio, peaks = load_preview(drag.path, n_bins=max(64, self.preview.width()))
        except Exception as exc:     # unreadable/missing file: the row stays, the strip says why
            self._audio = None
            self.preview.set_peaks(np.zeros(0), np.zeros(0), f"{drag.name}: {exc}")
            return
        self._audio = np.asarray(audio, dtype=np.float32)
        mins, maxs = self._strip_peaks(peaks, self._audio)
        self.preview.set_peaks(mins, maxs, f"{drag.name}  ·  {format_seconds(len(self._audio) / SAMPLE_RATE)}")

    def _strip_peaks(self, peaks: Any, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bins = max(64, self.preview.width())
        if hasattr(peaks, "query"):
            return peaks.query(0, len(audio), bins)
        if isinstance(peaks, (tuple, np.ndarray)) and len(peaks) == 2:     # (2, bins): mins, maxs
            return np.asarray(peaks[0]), np.asarray(peaks[1])
        n = len(audio) // bins * bins
        if n == 0:
            return np.zeros(0), np.zeros(0)
        blocks = audio[:n].reshape(bins, -1)
        return blocks.min(axis=1), blocks.max(axis=1)

    def preview_from(self, fraction: float) -> None:
        """Play the selected sound from `fraction` of its length (a click on the strip)."""
        if self._audio is None or self.player is None:
            if self.player is None:
                self.statusMessage.emit("Preview needs an audio device; none is available")
            return
        audio = self._audio
        start = int(fraction * len(audio))
        self.previewStarted.emit()
        try:
            self.player.render = lambda _project, a, b: audio[a:b]
            self.player.start(Project(), start, end=len(audio))
        except Exception as exc:   # device gone: say so, keep browsing
            self.statusMessage.emit(f"Preview unavailable: {exc}")
            return
        self._playing_timer.start()

    def stop_preview(self) -> None:
        self._playing_timer.stop()
        if self.player is not None:
            self.player.stop()
        self.preview.set_position(None)

    def _poll_preview(self) -> None:
        if self.player is None or self._audio is None or not self.player.active:
            self._playing_timer.stop()
            return
        pos = self.player.position()
        if pos >= len(self._audio):
            self.stop_preview()
            return
        self.preview.set_position(pos / max(len(self._audio), 1))

    def selected_drags(self) -> list[LibraryDrag]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [entry_to_drag(self.model.entry(r)) for r in rows]
