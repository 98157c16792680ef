"""The takes panel: generated takes side by side, auditioned in context, kept, discarded or used.

One row per take: its number (1..8 are also keys), a play button, the waveform over a mini
spectrogram drawn on a time axis shared by all rows (so the same instant lines up in every take)
and on one amplitude scale shared by all rows (so a quiet take looks quiet), its seed, mode and γ,
its level (peak dBFS and loudness LUFS, as the sidecar states it or measured), its own gain, and
Discard / Regenerate / Use. Playing a take plays the project *as it would sound with that take
used* (the other tracks, the region's neighbours, an optional pre-roll) through a playback engine
of its own, and moves the playhead so the picture follows. Pressing another take's number while
playing switches to it at the same instant: the switch is an edit made while playing, heard a
few tens of milliseconds later, with no gap and no jump in time.

"Use" is `core.edits.ApplyTake` pushed through the document (one undo step, the clip gets the
take's gain); keep/discard is `SetTakeKept`, the gain `SetTakeGain`. Views never change the project
themselves.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QLineF, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from foley_studio.core.edits import ApplyTake, SetTakeGain, SetTakeKept
from foley_studio.core.errors import FoleyError
from foley_studio.core.project import Project, Take
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.session.playback import SEEK_MARGIN_SECONDS, AudioOutput, MixRenderer, OutputLevels
from foley_studio.session.takes import TakeLevel, audition_project, take_level, target_track

from .theme import mono_font
from .track_controls import keep_entry_keys

from .qt_bridge import TaskRunner
from .widgets import ElidedLabel

log = logging.getLogger(__name__)

MAX_SHORTCUT_TAKES = 8
PEAK_BINS = 600            # waveform columns computed per take (drawn scaled to the row's width)
SPEC_COLUMNS = 300         # spectrogram columns per take
ROW_HEIGHT = 72
TAKES_MIN_WIDTH = 160      # the takes list's least width; narrower, its rows scroll sideways
TAKES_TITLE_MIN_WIDTH = 120
_WAVE = QColor("#bfe4f5")
_WAVE_DIM = QColor("#5d6a73")
_BG = QColor("#17191c")
_REGION_BG = QColor("#22252a")
_PLAYHEAD = QColor("#ff5a4f")
_ACTIVE = QColor("#3f95bd")
_MARKER = QColor(242, 184, 75, 150)


# ---------------------------------------------------------------------------------------------
# Previews: waveform peaks and a spectrogram image per take, made off the GUI thread
# ---------------------------------------------------------------------------------------------

@dataclass
class TakePreview:
    """What a row draws: min/max per column, a spectrogram image (low frequencies at the bottom) and
    the take's level."""

    mins: np.ndarray
    maxs: np.ndarray
    spectrogram: QImage
    samples: int
    level: TakeLevel | None = None

    @property
    def peak(self) -> float:
        """Largest |sample| of the waveform drawn (linear, before the take's gain)."""
        return max(abs(float(self.mins.min())), abs(float(self.maxs.max())), 0.0)


def _lut() -> np.ndarray:
    """256 RGB entries from near-black through violet and orange to pale yellow (readable on dark)."""
    stops = np.array([[0.0, 14, 15, 20], [0.35, 72, 30, 110], [0.65, 200, 70, 60], [0.85, 245, 160, 50],
                      [1.0, 252, 240, 170]])
    x = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(x, stops[:, 0], stops[:, c]) for c in (1, 2, 3)], axis=1).astype(np.uint8)


_LUT = _lut()


def make_preview(audio: np.ndarray) -> TakePreview:
    """Peaks and a spectrogram image of a take (pure numpy + QImage: safe in a worker thread)."""
    from foley_studio.media.spectrogram import display_spectrogram
    x = np.asarray(audio, dtype=np.float32)
    n = max(1, len(x))
    if len(x):
        # reduceat over equal-ish column starts: one vectorised pass, no Python loop per column.
        starts = np.unique(np.linspace(0, len(x), PEAK_BINS, endpoint=False).astype(np.int64))
        mins, maxs = np.minimum.reduceat(x, starts), np.maximum.reduceat(x, starts)
    else:
        mins = maxs = np.zeros(1, np.float32)
    hop = max(64, n // SPEC_COLUMNS)
    spec = display_spectrogram(x, n_fft=512, hop=hop)
    db = spec.db[:, :SPEC_COLUMNS] if spec.db.size else np.full((257, 1), -100.0, np.float32)
    lo, hi = -90.0, max(-30.0, float(db.max()))
    level = np.clip((db - lo) / (hi - lo), 0.0, 1.0)
    rgb = _LUT[(level[::-1] * 255).astype(np.uint8)]            # (F, T, 3), top row = highest frequency
    rgb = np.ascontiguousarray(rgb)
    image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], 3 * rgb.shape[1], QImage.Format_RGB888).copy()
    return TakePreview(mins, maxs, image, len(x))


def _load_preview(take: Take) -> TakePreview | None:
    """On a worker: a take's preview and level (None when it cannot be read: an empty row, not a crash)."""
    from foley_studio.media.audio import read_audio
    try:
        audio = read_audio(take.path, mono=False)
        preview = make_preview(audio.mean(axis=0) if audio.shape[0] > 1 else audio[0])
        preview.level = take_level(take, audio)
        return preview
    except Exception as exc:
        log.warning("take preview of %s failed: %s", take.path, exc)
        return None


class PreviewCache(QObject):
    """Take previews by file path, computed in a thread pool; `updated` fires when one arrives."""

    updated = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._items: dict[str, TakePreview | None] = {}
        self._pending: set[str] = set()
        self._runner = TaskRunner(self, "take-previews", latest_wins=False)

    def get(self, take: Take) -> TakePreview | None:
        path = take.path
        if path not in self._items and path not in self._pending:
            self._pending.add(path)
            self._runner.submit(lambda: _load_preview(take), lambda preview: self._on_ready(path, preview))
        return self._items.get(path)

    def _on_ready(self, path: str, preview: TakePreview | None) -> None:
        self._pending.discard(path)
        self._items[path] = preview
        self.updated.emit(path)

    def wait(self, msecs: int = 5000) -> bool:
        return self._runner.wait(msecs / 1000)

    def shutdown(self) -> None:
        self._runner.shutdown()


# ---------------------------------------------------------------------------------------------
# Audition: the project as it would be with the take used, played like the timeline
# ---------------------------------------------------------------------------------------------

class Auditioner(QObject):
    """Plays takes in context; `switch_to` changes take while playing, at the same instant."""

    playingChanged = Signal(bool)
    activeChanged = Signal(str)             # take id ("" when stopped)
    statusMessage = Signal(str)

    def __init__(self, document: Any, output_factory: Callable[[], AudioOutput] | None = None,
                 before_play: Callable[[], None] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.doc = document
        self.output_factory = output_factory or (lambda: AudioOutput(MixRenderer()))
        self.output_device: str | None = None
        self.before_play = before_play
        self.preroll_seconds = 1.0
        self.postroll_seconds = 0.5
        self.output: AudioOutput | None = None
        self.span: tuple[int, int] | None = None         # timeline samples of the audition in progress
        self._active: str | None = None
        self._revision = -1                              # the project revision the audition plays
        self._trials: dict[tuple, Project] = {}
        self._timer = QTimer(self, interval=30)
        self._timer.timeout.connect(self._poll)

    @property
    def playing(self) -> bool:
        return self.output is not None and self.output.active

    @property
    def active_take(self) -> str | None:
        return self._active

    def _output(self) -> AudioOutput:
        if self.output is None:
            self.output = self.output_factory()
        self.output.output_device = self.output_device
        return self.output

    def prepare(self, takes: list[Take]) -> None:
        """Decode the takes' audio in the background, so the first audition starts at once."""
        if takes:
            try:
                self._output().prepare_sources([t.path for t in takes])
            except Exception as exc:          # no device: auditions report it when asked for
                log.debug("audition warm-up failed: %s", exc)

    def play(self, take_id: str, take_ids: list[str]) -> bool:
        """Start playing `take_id` in context, over the span of every take in `take_ids` (plus pre/post-roll)."""
        if self.playing and take_id == self._active:
            return True
        if self.playing and self.span is not None and take_id in take_ids:
            self.switch_to(take_id)
            return True
        self.stop()
        try:
            takes = [self.doc.project.take(t) for t in dict.fromkeys([take_id, *take_ids])]
            start = max(0, min(t.region_start for t in takes) - round(self.preroll_seconds * SAMPLE_RATE))
            end = max(t.region_end for t in takes) + round(self.postroll_seconds * SAMPLE_RATE)
            trial = self._trial(take_id)
        except (FoleyError, OSError, KeyError) as exc:
            self.statusMessage.emit(f"Cannot play the take: {exc}")
            return False
        self._active, self._revision = take_id, self.doc.revision
        if self.before_play is not None:
            self.before_play()
        try:
            self._output().start(trial, start, end=end, owned=True)
        except Exception as exc:        # no device: say so, the rest of the editor still works
            self.statusMessage.emit(f"Playback unavailable: {exc}")
            self.activeChanged.emit(take_id)      # still mark it as the auditioned take (Enter uses it)
            return False
        self.span = (start, end)
        self._timer.start()
        self.playingChanged.emit(True)
        self.activeChanged.emit(take_id)
        return True

    def switch_to(self, take_id: str) -> None:
        if not self.playing or take_id == self._active:
            return
        try:
            trial = self._trial(take_id)
        except (FoleyError, KeyError) as exc:
            self.statusMessage.emit(f"Cannot play the take: {exc}")
            return
        self._active, self._revision = take_id, self.doc.revision
        self.output.update_project(trial, margin_seconds=SEEK_MARGIN_SECONDS, owned=True)
        self.activeChanged.emit(take_id)

    def refresh(self) -> None:
        """The project changed while auditioning (a fader, the take's gain): go on with it as it is now."""
        if self.playing and self._active and self._revision != self.doc.revision:
            take_id, self._active = self._active, None
            self.switch_to(take_id)

    def stop(self) -> None:
        was = self.playing
        self._timer.stop()
        if self.output is not None:
            self.output.stop()
        self.span = None
        if was:
            self.playingChanged.emit(False)

    def shutdown(self) -> None:
        self.stop()
        if self.output is not None:
            self.output.close()

    def levels(self) -> OutputLevels | None:
        return self.output.levels() if self.playing else None

    def _trial(self, take_id: str) -> Project:
        """The project with `take_id` used (one private copy per take and project revision)."""
        project = self.doc.project
        take = project.take(take_id)
        track_id = target_track(project, take, self.doc.selected_track)
        key = (take_id, track_id, self.doc.revision, id(project))
        if key not in self._trials:
            self._trials = {k: v for k, v in self._trials.items() if k[2:] == key[2:]}
            self._trials[key] = audition_project(project, take, track_id)
        return self._trials[key]

    def _poll(self) -> None:
        if not self.playing or self.span is None:
            return
        position = self.output.position()
        self.doc.set_playhead(min(position, self.span[1]))
        if position >= self.span[1]:
            self.stop()


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------

class TakeView(QWidget):
    """Waveform over mini spectrogram of one take, on the time axis [span_start, span_end) and the
    amplitude scale (`full_scale`: the linear level that fills half the wave band) shared by all rows."""

    def __init__(self, take: Take, parent: QWidget | None = None):
        super().__init__(parent)
        self.take = take
        self.preview: TakePreview | None = None
        self.span = (take.region_start, take.region_end)
        self.full_scale = 1.0
        self.playhead: int | None = None
        self.markers: list[int] = []      # project marker times: the picture's events, to judge sync by
        self._lines: tuple[tuple, list[QLineF]] | None = None
        self.setMinimumHeight(ROW_HEIGHT)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def x_of(self, samples: int) -> float:
        a, b = self.span
        return (samples - a) / max(1, b - a) * self.width()

    def wave_scale(self) -> float:
        """Pixels per unit of amplitude: the same for every row (the take's gain included)."""
        return (self.height() * 0.55 / 2 - 2) / max(1e-6, self.full_scale) * 10 ** (self.take.gain_db / 20)

    def paintEvent(self, _event: Any) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), _BG)
        x0, x1 = self.x_of(self.take.region_start), self.x_of(self.take.region_end)
        h = self.height()
        wave_h = h * 0.55
        target = QRectF(x0, 0, max(1.0, x1 - x0), h)
        p.fillRect(target, _REGION_BG)
        if self.preview is not None:
            spec_rect = QRectF(x0, wave_h, max(1.0, x1 - x0), h - wave_h)
            p.drawImage(spec_rect, self.preview.spectrogram)
            self._paint_wave(p, x0, x1, wave_h)
        else:
            p.setPen(QColor("#8a909b"))
            p.drawText(target, Qt.AlignCenter, "loading…")
        p.setPen(QPen(_MARKER, 1, Qt.DashLine))
        for time in self.markers:
            if self.span[0] <= time < self.span[1]:
                x = int(self.x_of(time))
                p.drawLine(x, 0, x, h)
        if self.playhead is not None and self.span[0] <= self.playhead <= self.span[1]:
            x = self.x_of(self.playhead)
            p.setPen(QPen(_PLAYHEAD, 1.5))
            p.drawLine(int(x), 0, int(x), h)
        p.end()

    def _paint_wave(self, p: QPainter, x0: float, x1: float, wave_h: float) -> None:
        """One vertical line per pixel column, built with numpy and kept while nothing it depends on changes."""
        mins, maxs = self.preview.mins, self.preview.maxs
        width = max(1, int(x1 - x0))
        scale = self.wave_scale()
        key = (id(self.preview), width, int(x0), round(scale, 4), wave_h)
        if self._lines is None or self._lines[0] != key:
            starts = np.minimum(np.linspace(0, len(mins), width + 1).astype(np.int64)[:-1], len(mins) - 1)
            lo, hi = np.minimum.reduceat(mins, starts), np.maximum.reduceat(maxs, starts)
            mid = wave_h / 2
            top = np.clip(mid - hi * scale, 0, wave_h)
            bottom = np.clip(mid - lo * scale, 0, wave_h)
            xs = int(x0) + np.arange(width)
            lines = [QLineF(float(x), float(a), float(x), float(b)) for x, a, b in zip(xs, top, bottom)]
            self._lines = (key, lines)
        p.setPen(QPen(_WAVE if self.take.kept else _WAVE_DIM, 1))
        p.drawLines(self._lines[1])
        if self.full_scale * 10 ** (-self.take.gain_db / 20) < self.preview.peak:
            p.setPen(QPen(QColor("#ef5350"), 1))            # the take (with its gain) exceeds the scale
            p.drawLine(int(x0), 0, int(x1), 0)


class TakeRow(QFrame):
    """One take: number, play, view, seed/mode/γ and level, gain, discard/restore, regenerate, use."""

    playClicked = Signal(str)
    useClicked = Signal(str)
    keepToggled = Signal(str, bool)
    regenerateClicked = Signal(str)
    gainChanged = Signal(str, float)

    def __init__(self, take: Take, number: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.take = take
        self.setObjectName("takeRow")
        self.setFrameShape(QFrame.StyledPanel)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(4, 3, 4, 3)
        rows.setSpacing(3)
        layout = QHBoxLayout()
        layout.setSpacing(6)
        keyed = number <= MAX_SHORTCUT_TAKES
        self.number = QLabel(str(number), self)
        self.number.setFixedWidth(QFontMetrics(self.number.font()).horizontalAdvance("888") + 2)
        self.number.setAlignment(Qt.AlignCenter)
        self.number.setProperty("role", None if keyed else "hint")
        self.number.setToolTip(f"Press {number} to audition this take" if keyed else
                               f"Take {number} (keys 1-{MAX_SHORTCUT_TAKES} audition the first {MAX_SHORTCUT_TAKES})")
        self.play_button = QToolButton(self)
        self.play_button.setText("▶")
        self.play_button.setToolTip("Play this take in context (the region with the picture and the rest "
                                    "of the mix); while playing, switches to it without a gap")
        self.view = TakeView(take, self)
        self.view.setMinimumWidth(110)
        self.info = QLabel(self)
        self.info.setFont(mono_font(8.5))
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)     # a seed can be copied
        self.info.setToolTip(_settings_tooltip(take))
        # Wide enough for the whole of any seed the editor draws (10 digits) and the level line.
        self.info.setMinimumWidth(QFontMetrics(self.info.font()).horizontalAdvance("-34.0 dBFS · -54.4 LUFS") + 4)
        self.gain = QDoubleSpinBox(self)
        self.gain.setRange(-60.0, 24.0)
        self.gain.setDecimals(1)
        self.gain.setSingleStep(1.0)
        self.gain.setSuffix(" dB")
        self.gain.setKeyboardTracking(False)
        self.gain.setProperty("compact", True)        # no arrow buttons (the theme): typed, scrolled or arrow keys
        keep_entry_keys(self.gain)
        self.gain.setFixedWidth(QFontMetrics(self.gain.font()).horizontalAdvance("-60.0 dB") + 28)
        self.gain.setToolTip("This take's gain (type a value, or scroll): heard when auditioning, "
                             "given to the clip when used")
        self.keep_button = QToolButton(self)
        self.keep_button.setCheckable(True)
        self.regen_button = QToolButton(self)
        self.regen_button.setText("⟳")
        self.regen_button.setToolTip("Generate again from this take's saved settings (its sidecar)")
        self.use_button = QPushButton("Use", self)
        self.use_button.setToolTip("Put this take on its track over the region (replaces what is there, "
                                   "with short crossfades; one undo step). Shortcut: Enter")
        handle = QVBoxLayout()                   # the number over its play button: narrow docks keep the view
        handle.setSpacing(2)
        handle.addWidget(self.number, 0, Qt.AlignHCenter)
        handle.addWidget(self.play_button, 0, Qt.AlignHCenter)
        layout.addLayout(handle)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.info)              # what the take is ...
        rows.addLayout(layout)
        actions = QHBoxLayout()                  # ... and what to do with it, on a line of their own
        actions.setSpacing(4)
        gain_label = QLabel("Gain", self)
        gain_label.setProperty("role", "hint")
        actions.addWidget(gain_label)
        actions.addWidget(self.gain)
        actions.addStretch(1)
        for w in (self.keep_button, self.regen_button, self.use_button):
            actions.addWidget(w)
        rows.addLayout(actions)
        self.play_button.clicked.connect(lambda: self.playClicked.emit(self.take.id))
        self.use_button.clicked.connect(lambda: self.useClicked.emit(self.take.id))
        self.regen_button.clicked.connect(lambda: self.regenerateClicked.emit(self.take.id))
        self.keep_button.toggled.connect(lambda on: self.keepToggled.emit(self.take.id, not on))
        self.gain.valueChanged.connect(lambda v: self.gainChanged.emit(self.take.id, float(v)))
        self.set_take(take)

    def set_take(self, take: Take) -> None:
        self.take = take
        self.view.take = take
        self.keep_button.blockSignals(True)
        self.keep_button.setChecked(not take.kept)
        self.keep_button.blockSignals(False)
        self.keep_button.setText("Restore" if not take.kept else "Discard")
        self.keep_button.setToolTip("Bring this take back" if not take.kept else
                                    "Mark this take as discarded (it stays on disk; undo brings it back)")
        if self.gain.value() != take.gain_db:
            self.gain.blockSignals(True)
            self.gain.setValue(take.gain_db)
            self.gain.blockSignals(False)
        self.show_info()
        self.view.update()

    def show_info(self) -> None:
        """Seed (whole), mode and γ, and the level: what the take is and how loud, at a glance."""
        s = self.take.settings
        cfg = s.get("cfg")
        mode = str(s.get("mode") or "?")
        second = f"{mode} · γ {cfg:g}" if isinstance(cfg, (int, float)) else mode
        preview = self.view.preview
        level = preview.level if preview is not None else None
        third = level.describe() if level is not None else "level …"
        self.info.setText(f"seed {s.get('seed', '?')}\n{second}\n{third}")
        source = ("stated by the take's sidecar" if level.stated else "measured from the audio") if level else ""
        self.info.setToolTip(_settings_tooltip(self.take) + (f"\nlevel ({source}): {level.describe()}" if level else ""))

    def set_active(self, active: bool) -> None:
        self.setStyleSheet(f"#takeRow {{ border: 1px solid {_ACTIVE.name()}; background: #232a33; }}"
                           if active else "#takeRow { border: 1px solid #33373f; }")


def _settings_tooltip(take: Take) -> str:
    s = take.settings
    parts = [f"mode: {s.get('mode', '?')}", f"prompt: {s.get('prompt') or '—'}"]
    if s.get("negative_prompt"):
        parts.append(f"negative: {s['negative_prompt']}")
    parts += [f"quality: {s.get('quality') or 'none'}", f"γ: {s.get('cfg')}", f"steps: {s.get('steps')} "
              f"({s.get('sampler')})", f"seed: {s.get('seed')}", f"model: {s.get('model')}", f"file: {take.path}"]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# The panel
# ---------------------------------------------------------------------------------------------

class TakesPanel(QWidget):
    """Takes for the selected region (or all takes), auditioned in context and applied with undo."""

    statusMessage = Signal(str)
    regenerateRequested = Signal(str)      # take id: the generate panel resubmits its sidecar's settings

    def __init__(self, document: Any, *, output_factory: Callable[[], AudioOutput] | None = None,
                 before_play: Callable[[], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = document
        self.previews = PreviewCache(self)
        self.auditioner = Auditioner(document, output_factory, before_play, self)
        self.rows: list[TakeRow] = []
        self.current_take: str | None = None     # the take last auditioned (what Enter uses)
        self._build()
        self.previews.updated.connect(self._on_preview)
        self.auditioner.activeChanged.connect(self._on_active)
        self.auditioner.playingChanged.connect(self._on_playing)
        self.auditioner.statusMessage.connect(self.statusMessage)
        document.changed.connect(self.refresh)
        document.regionChanged.connect(self.refresh)
        document.playheadChanged.connect(self._on_playhead)
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        # Wrapped, its least width would be its longest word: a timecode range in the title would widen the dock.
        self.title.setMinimumWidth(TAKES_TITLE_MIN_WIDTH)
        top.addWidget(self.title, 1)
        self.activity = ElidedLabel("", self)  # what the engine is doing (set by the generate panel); never widens
        self.activity.setProperty("role", "hint")
        top.addWidget(self.activity)
        layout.addLayout(top)
        # The controls take a second row: on one row with the title they made the dock (and, tabbed
        # with the generate panel, both) too wide for a 1366 px screen.
        header = QHBoxLayout()
        header.addWidget(QLabel("Pre-roll", self))
        self.preroll = QDoubleSpinBox(self)
        self.preroll.setRange(0.0, 10.0)
        self.preroll.setSingleStep(0.5)
        self.preroll.setSuffix(" s")
        self.preroll.setValue(1.0)
        self.preroll.setToolTip("Seconds of the mix played before the region when auditioning")
        self.preroll.valueChanged.connect(lambda v: setattr(self.auditioner, "preroll_seconds", float(v)))
        header.addWidget(self.preroll)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.clicked.connect(self.auditioner.stop)
        header.addWidget(self.stop_button)
        self.hide_discarded = QCheckBox("Hide discarded", self)
        self.hide_discarded.toggled.connect(self.refresh)
        header.addWidget(self.hide_discarded)
        header.addStretch(1)
        layout.addLayout(header)
        self.rows_host = QWidget(self)
        self.rows_layout = QVBoxLayout(self.rows_host)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(4)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        # A QScrollArea asks for its rows' width as its minimum: new takes would widen the dock and the
        # window. Past this width the rows scroll sideways instead.
        scroll.setMinimumWidth(TAKES_MIN_WIDTH)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(self.rows_host)
        layout.addWidget(scroll, 1)
        self.empty_hint = QLabel("No takes yet: select a region on the timeline, press G, describe the sound "
                                 "and press Ctrl+Enter.", self)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setProperty("role", "hint")
        layout.addWidget(self.empty_hint)

    # -- which takes ------------------------------------------------------------------------------
    def visible_takes(self) -> list[Take]:
        """Takes overlapping the selected region (all takes when none is selected), oldest first."""
        takes = list(self.doc.project.takes)
        region = self.doc.region
        if region is not None:
            takes = [t for t in takes if t.region_start < region[1] and t.region_end > region[0]]
        if self.hide_discarded.isChecked():
            takes = [t for t in takes if t.kept]
        return takes

    def refresh(self) -> None:
        self.auditioner.refresh()
        takes = self.visible_takes()
        if [r.take.id for r in self.rows] == [t.id for t in takes]:
            for row, take in zip(self.rows, takes):
                row.set_take(take)            # same rows: only kept/labels may have changed
        else:
            self._rebuild(takes)
        self._update_scale()
        self._update_title(takes)

    def common_scale(self) -> float:
        """The linear level that fills a row: the loudest visible take with its gain (at least -60 dBFS)."""
        peaks = [r.view.preview.peak * 10 ** (r.take.gain_db / 20) for r in self.rows if r.view.preview is not None]
        return max(peaks + [1e-3])

    def _update_scale(self) -> None:
        scale = self.common_scale()
        for row in self.rows:
            if row.view.full_scale != scale:
                row.view.full_scale = scale
                row.view.update()

    def _rebuild(self, takes: list[Take]) -> None:
        for row in self.rows:
            # Hide and delete in place: reparenting to None would make each row a top-level window.
            row.hide()
            self.rows_layout.removeWidget(row)
            row.deleteLater()
        self.rows = []
        span = (min((t.region_start for t in takes), default=0), max((t.region_end for t in takes), default=1))
        for i, take in enumerate(takes):
            row = TakeRow(take, i + 1, self.rows_host)
            row.view.span = span
            row.view.markers = [m.time for m in self.doc.project.markers]
            row.view.preview = self.previews.get(take)
            row.playClicked.connect(self.audition)
            row.useClicked.connect(self.use_take)
            row.keepToggled.connect(self.set_kept)
            row.regenerateClicked.connect(self.regenerateRequested)
            row.gainChanged.connect(self.set_gain)
            row.set_active(take.id == self.current_take)
            row.show_info()
            self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
            self.rows.append(row)
        self.empty_hint.setVisible(not takes)
        self.auditioner.prepare(takes)

    def _update_title(self, takes: list[Take]) -> None:
        if not takes:
            self.title.setText("Takes")
            return
        a, b = min(t.region_start for t in takes), max(t.region_end for t in takes)
        clock = self.doc.project.video.clock if self.doc.project.video else None
        fmt = (lambda s: clock.timecode(s)) if clock is not None else (lambda s: f"{s / SAMPLE_RATE:.2f} s")
        scope = "in the selected region" if self.doc.region else "in the project"
        self.title.setText(f"<b>{len(takes)} take{'s' if len(takes) != 1 else ''}</b> {scope} "
                           f"({fmt(a)} – {fmt(b)})")

    # -- actions ------------------------------------------------------------------------------------
    def take_ids(self) -> list[str]:
        return [r.take.id for r in self.rows]

    def audition(self, take_id: str) -> None:
        """Play `take_id` in context; while already playing, switch to it at the same instant."""
        self.current_take = take_id
        self.auditioner.preroll_seconds = float(self.preroll.value())
        self.auditioner.play(take_id, self.take_ids())
        self._on_active(take_id)

    def audition_number(self, number: int) -> bool:
        """The 1..8 keys: audition the number-th visible take."""
        if 1 <= number <= min(len(self.rows), MAX_SHORTCUT_TAKES):
            self.audition(self.rows[number - 1].take.id)
            return True
        self.statusMessage.emit(f"No take {number} here")
        return False

    def use_take(self, take_id: str | None = None) -> bool:
        """Put a take on its target track over its region as one undoable edit."""
        take_id = take_id or self.current_take
        if take_id is None:
            self.statusMessage.emit("No take auditioned yet: press 1..8 to pick one, then Enter to use it")
            return False
        try:
            take = self.doc.project.take(take_id)
            track_id = target_track(self.doc.project, take, self.doc.selected_track)
            self.auditioner.stop()
            self.doc.apply(ApplyTake(take.id, track_id, take.region_start, take.region_end))
        except (FoleyError, KeyError) as exc:
            self.statusMessage.emit(f"Cannot use the take: {exc}")
            return False
        name = next((t.name for t in self.doc.project.tracks if t.id == track_id), track_id)
        self.statusMessage.emit(f"Used {take.label or take.id} on {name}")
        return True

    def set_kept(self, take_id: str, kept: bool) -> None:
        try:
            self.doc.apply(SetTakeKept(take_id, kept))
        except (FoleyError, KeyError) as exc:
            self.statusMessage.emit(f"Cannot change the take: {exc}")

    def set_gain(self, take_id: str, gain_db: float) -> None:
        """A take's own gain (one undo step per change; steps in a row merge)."""
        try:
            if self.doc.project.take(take_id).gain_db != gain_db:
                self.doc.apply(SetTakeGain(take_id, round(gain_db, 1)))
        except (FoleyError, KeyError) as exc:
            self.statusMessage.emit(f"Cannot change the take: {exc}")
            return


    def set_activity(self, text: str) -> None:
        """A short line about generation in progress, so the takes tab shows it too."""
        self.activity.setText(text)

    def shutdown(self) -> None:
        self.auditioner.shutdown()
        self.previews.wait(5000)
        self.previews.shutdown()

    # -- feedback -------------------------------------------------------------------------------------
    def _on_preview(self, path: str) -> None:
        for row in self.rows:
            if row.take.path == path:
                row.view.preview = self.previews.get(row.take)
                row.show_info()
                row.view.update()
        self._update_scale()

    def _on_active(self, take_id: str) -> None:
        if take_id:
            self.current_take = take_id
        for row in self.rows:
            row.set_active(row.take.id == self.current_take)

    def _on_playing(self, playing: bool) -> None:
        if not playing:
            for row in self.rows:
                row.view.playhead = None
                row.view.update()

    def _on_playhead(self, samples: int) -> None:
        if not self.auditioner.playing:
            return
        for row in self.rows:
            row.view.playhead = samples
            row.view.update()
