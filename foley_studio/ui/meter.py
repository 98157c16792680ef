"""Level meters: the master meter in the transport bar and a thin meter per track header.

The playback engine measures what it renders (per 25 ms: each channel's peak, each track's peak,
the K-weighted energy) and hands over what has been *heard* (`AudioOutput.levels()`); the master
meter polls that at ~30 Hz on the GUI thread, so the audio side never waits for painting, and
passes each reading on (`levelsRead`) to the track meters. `PeakBallistics` is the meters'
arithmetic without Qt (instant attack, linear fall in dB, hold), so tests drive it with their own clock.

`LevelMeter` draws one bar per channel (-60..0 dBFS, green/yellow/red zones, hold marker), the held
peak as a readout that latches red on clipping, and, fed loudness, the momentary and integrated
loudness in LUFS. `TrackMeter` is one vertical bar with the same ballistics.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0
HOLD_SECONDS = 1.5
FALL_DB_PER_SECOND = 12.0          # IEC 60268-18's digital peak meter returns 20 dB in 1.7 s
POLL_MS = 33
TICKS_DB = (-60, -48, -36, -24, -18, -12, -6, -3, 0)
LABELS_DB = (-60, -40, -30, -20, -12, -6, 0)
GREEN_TOP_DB, YELLOW_TOP_DB = -18.0, -6.0

# Lit and unlit colours per zone: the dim ones show the zones on the dark theme when silent.
_ZONES = ((FLOOR_DB, GREEN_TOP_DB, "#3fbf6a", "#1d3526"),
          (GREEN_TOP_DB, YELLOW_TOP_DB, "#e3c341", "#3a3420"),
          (YELLOW_TOP_DB, 0.0, "#ef5350", "#3d2224"))
_TRACK = "#101215"
_TEXT = "#b4bac4"
_TICK = "#6f7682"


def to_dbfs(peak: float) -> float:
    """Linear |sample| peak to dBFS (silence: -inf)."""
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


class PeakBallistics:
    """Peak meter state: the bar (instant rise, falls FALL_DB_PER_SECOND), a held peak, a clip latch."""

    def __init__(self, *, floor_db: float = FLOOR_DB, hold_seconds: float = HOLD_SECONDS,
                 fall_db_per_second: float = FALL_DB_PER_SECOND):
        self.floor_db = floor_db
        self.hold_seconds = hold_seconds
        self.fall = fall_db_per_second
        self.level_db = floor_db          # the bar
        self.hold_db = floor_db           # the peak-hold marker and readout
        self.max_db = -math.inf           # unclamped held peak, for the numeric readout
        self.clipped = False              # latched until reset_clip()
        self._hold_until = -math.inf
        self._last: float | None = None

    def feed(self, peak: float | None, now: float) -> None:
        """Advance to `now` (seconds) and take one polled peak (None: nothing played since the last poll)."""
        if self._last is not None:
            self.level_db = max(self.floor_db, self.level_db - self.fall * max(0.0, now - self._last))
        self._last = now
        if peak is not None:
            db = to_dbfs(peak)
            self.level_db = max(self.level_db, self._clamp(db))
            if db >= self.max_db:
                self.max_db = db
                self._hold_until = now + self.hold_seconds
            if db >= 0.0:
                self.clipped = True
        if now >= self._hold_until:
            # Hold over: the marker rests on the bar and falls with it until a peak rises above it.
            self.max_db = self.level_db if self.level_db > self.floor_db else -math.inf
        self.hold_db = self._clamp(self.max_db)

    def _clamp(self, db: float) -> float:
        return min(0.0, max(self.floor_db, db))

    def reset_clip(self) -> None:
        self.clipped = False

    @property
    def idle(self) -> bool:
        return self.level_db <= self.floor_db and self.hold_db <= self.floor_db and not self.clipped


def _peaks(reading: Any, channels: int) -> tuple[list[float | None], Any]:
    """A source's reading as one peak per bar, and the reading itself when it carries loudness.

    Sources return None (nothing heard), one float (every bar), or an `OutputLevels`-like object
    with `.peak` (left, right) and `.momentary` / `.integrated` LUFS."""
    if reading is None:
        return [None] * channels, None
    peak = getattr(reading, "peak", reading)
    if isinstance(peak, (tuple, list)):
        values = [float(v) for v in peak][:channels]
        values += [max(values)] * (channels - len(values))
        return values, reading if hasattr(reading, "integrated") else None
    return [float(peak)] * channels, None


class LevelMeter(QWidget):
    """Horizontal peak meter: one -60..0 dBFS bar per channel with ticks and hold markers, a readout
    of the held peak that lights on clip, and (with `show_loudness`) momentary / integrated LUFS."""

    levelsRead = Signal(object)         # each reading (None: nothing heard this poll), for the track meters

    def __init__(self, source: Callable[[], Any] | None = None, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.monotonic, channels: int = 1, show_loudness: bool = False):
        super().__init__(parent)
        self.source = source
        self.clock = clock
        self.channels = channels
        self.show_loudness = show_loudness
        self.state = PeakBallistics()                     # all channels: the readout and the clip light
        self.channel_states = [PeakBallistics() for _ in range(channels)]
        self.momentary: float | None = None
        self.integrated: float | None = None
        self._shown: tuple | None = None
        self.setFixedSize(250 + (self.LOUDNESS_W if show_loudness else 0), 28)
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
        self.setAccessibleName("Output level")
        tip = ("Output level (sample peak, dBFS{}). The number is the peak held for 1.5 s;\n"
               "it turns red when the output clipped (reached 0 dBFS): click to reset.").format(
                   ", left and right" if channels == 2 else "")
        if show_loudness:
            tip += ("\nM: momentary loudness (last 400 ms), I: integrated loudness since play started "
                    "(ITU-R BS.1770, LUFS; -23 broadcast, -14 web).")
        self.setToolTip(tip)
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    def poll(self) -> None:
        """Take the source's reading since the last poll; repaint only when what is drawn changed."""
        reading = self.source() if self.source is not None else None
        peaks, loud = _peaks(reading, self.channels)
        if reading is None and self.state.idle:
            return
        self.levelsRead.emit(reading)            # None too: the track meters fall with this one
        now = self.clock()
        for state, peak in zip(self.channel_states, peaks):
            state.feed(peak, now)
        heard = [p for p in peaks if p is not None]
        self.state.feed(max(heard) if heard else None, now)
        if loud is not None:
            self.momentary, self.integrated = loud.momentary, loud.integrated
        shown = (tuple(round(s.level_db, 1) for s in self.channel_states), round(self.state.hold_db, 1),
                 self._readout(), self.state.clipped, self._loudness_text())
        if shown != self._shown:
            self._shown = shown
            self.update()

    def reset_loudness(self) -> None:
        self.momentary = self.integrated = None
        self._shown = None
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.LeftButton and self.state.clipped:
            self.state.reset_clip()
            self._shown = None
            self.update()
        super().mousePressEvent(event)

    # -- drawing ----------------------------------------------------------------------------------
    READOUT_W = 40
    LOUDNESS_W = 118
    BAR_TOP, BAR_H = 3, 9

    def bar_rect(self) -> QRectF:
        right = self.READOUT_W + 12 + (self.LOUDNESS_W if self.show_loudness else 0)
        return QRectF(4, self.BAR_TOP, self.width() - right, self.BAR_H)

    def _bar_rects(self) -> list[QRectF]:
        bar = self.bar_rect()
        if self.channels == 1:
            return [bar]
        h = (bar.height() - 1) / 2
        return [QRectF(bar.left(), bar.top(), bar.width(), h), QRectF(bar.left(), bar.top() + h + 1, bar.width(), h)]

    def x_of(self, db: float) -> float:
        """Pixel column of `db` on the bar (linear in dB)."""
        bar = self.bar_rect()
        frac = (min(0.0, max(FLOOR_DB, db)) - FLOOR_DB) / -FLOOR_DB
        return bar.left() + frac * bar.width()

    def _readout(self) -> str:
        db = self.state.max_db
        if db == -math.inf or db <= FLOOR_DB:
            return "-inf"
        return f"{db:+.1f}" if db >= 0 else f"{db:.1f}"

    def _loudness_text(self) -> str:
        def fmt(value: float | None) -> str:
            return "--" if value is None or value < -70 else f"{value:.1f}"
        return f"M {fmt(self.momentary)}  I {fmt(self.integrated)}" if self.show_loudness else ""

    def paintEvent(self, event: QPaintEvent) -> None:   # noqa: ARG002
        p = QPainter(self)
        bar = self.bar_rect()
        p.fillRect(bar.adjusted(-1, -1, 1, 1), QColor(_TRACK))
        for rect, state in zip(self._bar_rects(), self.channel_states):
            self._paint_bar(p, rect, state)
        self._paint_scale(p, bar)
        self._paint_readout(p)
        if self.show_loudness:
            self._paint_loudness(p)
        p.end()

    def _paint_bar(self, p: QPainter, rect: QRectF, state: PeakBallistics) -> None:
        level_x = self.x_of(state.level_db) if state.level_db > FLOOR_DB else rect.left()
        for lo, hi, lit, dim in _ZONES:
            x0, x1 = self.x_of(lo), self.x_of(hi)
            p.fillRect(QRectF(x0, rect.top(), x1 - x0, rect.height()), QColor(dim))
            if level_x > x0:
                p.fillRect(QRectF(x0, rect.top(), min(level_x, x1) - x0, rect.height()), QColor(lit))
        if state.hold_db > FLOOR_DB:
            x = self.x_of(state.hold_db)
            colour = next(lit for lo, hi, lit, _ in _ZONES if state.hold_db <= hi)
            p.fillRect(QRectF(min(x, rect.right() - 2), rect.top(), 2, rect.height()), QColor(colour))

    def _paint_loudness(self, p: QPainter) -> None:
        box = QRectF(self.width() - self.LOUDNESS_W - 3, 3, self.LOUDNESS_W - 6, self.height() - 6)
        font = QFont(self.font())
        font.setPixelSize(11)
        p.setFont(font)
        p.setPen(QColor(_TEXT))
        p.drawText(box, Qt.AlignLeft | Qt.AlignVCenter, self._loudness_text() + " LUFS")
    def _paint_scale(self, p: QPainter, bar: QRectF) -> None:
        p.setPen(QPen(QColor(_TICK), 1))
        tick_top = bar.bottom() + 1
        for db in TICKS_DB:
            x = round(self.x_of(db)) + 0.5
            p.drawLine(x, tick_top, x, tick_top + (3 if db in LABELS_DB else 2))
        font = QFont(self.font())
        font.setPixelSize(9)
        p.setFont(font)
        p.setPen(QColor(_TEXT))
        metrics = p.fontMetrics()
        y = int(tick_top + 4)
        for db in LABELS_DB:
            text = str(abs(db))              # minus signs omitted, as on hardware meters: all values are <= 0
            w = metrics.horizontalAdvance(text)
            x = self.x_of(db) - w / 2
            x = min(max(x, 0), bar.right() - w + 2)
            p.drawText(QRectF(x, y, w + 1, metrics.height()), Qt.AlignLeft | Qt.AlignTop, text)

    def _paint_readout(self, p: QPainter) -> None:
        left = self.width() - self.READOUT_W - 3 - (self.LOUDNESS_W if self.show_loudness else 0)
        box = QRectF(left, 3, self.READOUT_W, self.height() - 6)
        clipped = self.state.clipped
        p.setPen(QPen(QColor("#ff8a80" if clipped else "#3a3e46"), 1))
        p.setBrush(QColor("#c62828" if clipped else "#17191c"))
        p.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        font = QFont(self.font())
        font.setPixelSize(11)
        p.setFont(font)
        p.setPen(QColor("#ffffff" if clipped else "#e3e6eb"))
        p.drawText(box, Qt.AlignCenter, "CLIP" if clipped and self._readout() == "-inf" else self._readout())

    def shutdown(self) -> None:
        self._timer.stop()


class TrackMeter(QWidget):
    """A thin vertical peak meter for a track header (same ballistics and zones as the master meter)."""

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.monotonic):
        super().__init__(parent)
        self.clock = clock
        self.state = PeakBallistics()
        self._shown: tuple | None = None
        self.setFixedWidth(7)
        self.setToolTip("Track level (sample peak, dBFS) as it is heard in the mix")

    def feed(self, peak: float | None) -> None:
        if peak is None and self.state.idle:
            return
        self.state.feed(peak, self.clock())
        shown = (round(self.state.level_db, 1), round(self.state.hold_db, 1), self.state.clipped)
        if shown != self._shown:
            self._shown = shown
            self.update()

    def y_of(self, db: float) -> float:
        frac = (min(0.0, max(FLOOR_DB, db)) - FLOOR_DB) / -FLOOR_DB
        return self.height() - 1 - frac * (self.height() - 2)

    def paintEvent(self, event: QPaintEvent) -> None:   # noqa: ARG002
        p = QPainter(self)
        w = self.width()
        p.fillRect(0, 0, w, self.height(), QColor(_TRACK))
        level_y = self.y_of(self.state.level_db) if self.state.level_db > FLOOR_DB else self.height()
        for lo, hi, lit, dim in _ZONES:
            y0, y1 = self.y_of(hi), self.y_of(lo)
            p.fillRect(QRectF(1, y0, w - 2, y1 - y0), QColor(dim))
            if level_y < y1:
                top = max(level_y, y0)
                p.fillRect(QRectF(1, top, w - 2, y1 - top), QColor(lit))
        if self.state.hold_db > FLOOR_DB:
            colour = next(lit for lo, hi, lit, _ in _ZONES if self.state.hold_db <= hi)
            p.fillRect(QRectF(1, self.y_of(self.state.hold_db), w - 2, 2), QColor(colour))
        if self.state.clipped:
            p.fillRect(QRectF(0, 0, w, 3), QColor("#ef5350"))
        p.end()
