"""The mixer controls of each track header: a fader and a pan, each with a numeric entry, and a meter.

The timeline canvas paints its headers (name, mute/solo); these are real widgets laid over them, one
set per track row, moved as the canvas scrolls or changes track height (`TrackControls.follow`).
Every change goes through the document as an edit: a fader or pan drag is one gesture (one undo
step, cancelled by Escape like any drag), wheel and arrow steps merge into one step per control,
a typed value is one step, a double-click returns the control to 0 dB / centre.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDial, QDoubleSpinBox, QSlider, QSpinBox, QWidget

from foley_studio.core.planners import FADER_RANGE_DB, plan_fader, plan_pan
from foley_studio.core.project import Track

from .meter import TrackMeter

if TYPE_CHECKING:
    from .timeline_view import TimelineCanvas

FADER_STEPS = 1000
# Fader travel: the bottom 40 % covers -96..-20 dB, the middle 45 % -20..0 dB, the top 15 % 0..+12 dB
# (as on a console, most of the throw is where mixing happens).
_FADER_POS = (0.0, 0.40, 0.85, 1.0)
_FADER_DB = (FADER_RANGE_DB[0], -20.0, 0.0, FADER_RANGE_DB[1])
ROW_H = 20
BOX_W = 58
PAN_BOX_W = 46
DIAL = 22
MIN_HEIGHT_FOR_PAN = 70            # shorter tracks show the fader only, beside mute/solo
MIN_HEIGHT_FOR_FADER = 40
_STYLE = """
QSlider::groove:horizontal { height: 4px; background: #15171a; border: 1px solid #3a3e46; border-radius: 2px; }
QSlider::handle:horizontal { width: 9px; margin: -6px 0; background: #c9ced6; border: 1px solid #5a606b;
    border-radius: 2px; }
QSlider::sub-page:horizontal { background: #2f6f8f; border-radius: 2px; }
QDoubleSpinBox, QSpinBox { padding: 0px 2px; font-size: 8.5pt; }
QDoubleSpinBox::up-button, QDoubleSpinBox::down-button, QSpinBox::up-button, QSpinBox::down-button {
    width: 0px; border: none; }
"""


class EntryKeys(QObject):
    """Keeps Return/Enter with a number box that has focus: the window's Enter shortcut ("use the
    auditioned take") must not take the key that commits a typed value."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.ShortcutOverride and event.key() in (Qt.Key_Return, Qt.Key_Enter):
            event.accept()
        return False


_ENTRY_KEYS: EntryKeys | None = None


def keep_entry_keys(box: QWidget) -> None:
    global _ENTRY_KEYS
    if _ENTRY_KEYS is None:
        _ENTRY_KEYS = EntryKeys()
    box.installEventFilter(_ENTRY_KEYS)


def fader_db(position: int) -> float:
    """Slider position (0..FADER_STEPS) -> dB on the fader law."""
    return float(np.interp(position / FADER_STEPS, _FADER_POS, _FADER_DB))


def fader_position(db: float) -> int:
    return int(round(float(np.interp(db, _FADER_DB, _FADER_POS)) * FADER_STEPS))


def pan_text(pan: float) -> str:
    """-0.3 -> "L30", 0 -> "C", 0.45 -> "R45"."""
    value = int(round(pan * 100))
    return "C" if value == 0 else f"{'L' if value < 0 else 'R'}{abs(value)}"


def parse_pan(text: str) -> float | None:
    """"L30", "r 45", "C", "-30", "+12" -> pan in -1..1; None when it is not a pan."""
    t = text.strip().upper().replace(" ", "")
    if t in ("C", "0", ""):
        return 0.0 if t else None
    sign = -1 if t[0] == "L" else 1 if t[0] == "R" else None
    digits = t[1:] if sign is not None else t
    try:
        value = float(digits)
    except ValueError:
        return None
    value = value * (sign if sign is not None else 1)
    return value / 100 if -100 <= value <= 100 else None


class PanBox(QSpinBox):
    """Pan as a number from L100 through C to R100 (type "L30", "R5", "C" or a signed number)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setRange(-100, 100)
        self.setKeyboardTracking(False)
        self.setAlignment(Qt.AlignRight)

    def textFromValue(self, value: int) -> str:
        return pan_text(value / 100)

    def valueFromText(self, text: str) -> int:
        pan = parse_pan(text)
        return int(round(pan * 100)) if pan is not None else self.value()

    def validate(self, text: str, pos: int):
        t = text.strip().upper()
        if parse_pan(text) is not None:
            return QValidator.Acceptable, text, pos
        if t in ("", "L", "R", "-", "+"):
            return QValidator.Intermediate, text, pos
        return QValidator.Invalid, text, pos


class TrackStrip(QObject):
    """One track's controls (children of the canvas): fader + dB box, pan + pan box, meter."""

    def __init__(self, controls: "TrackControls", track: Track):
        super().__init__(controls.canvas)
        self.controls = controls
        self.doc = controls.doc
        self.track_id = track.id
        parent = controls.canvas
        self.fader = QSlider(Qt.Horizontal, parent)
        self.fader.setRange(0, FADER_STEPS)
        self.fader.setPageStep(FADER_STEPS // 20)
        self.gain = QDoubleSpinBox(parent)
        self.gain.setRange(*FADER_RANGE_DB)
        self.gain.setDecimals(1)
        self.gain.setSingleStep(0.5)
        self.gain.setSuffix(" dB")
        self.gain.setKeyboardTracking(False)
        self.gain.setAlignment(Qt.AlignRight)
        self.pan = QDial(parent)                 # a knob, as pan is on a console
        self.pan.setRange(-100, 100)
        self.pan.setPageStep(10)
        self.pan.setNotchesVisible(True)
        self.pan.setNotchTarget(25)
        self.pan_box = PanBox(parent)
        self.meter = TrackMeter(parent)
        for box in (self.gain, self.pan_box):
            keep_entry_keys(box)
        self.widgets: list[QWidget] = [self.fader, self.gain, self.pan, self.pan_box, self.meter]
        for w in self.widgets:
            w.setStyleSheet(_STYLE)
            w.setFocusPolicy(Qt.ClickFocus if w in (self.fader, self.pan) else Qt.StrongFocus)
        self._gesture: int | None = None
        self._gesture_what: str | None = None
        self._cancelled = False              # Escape ended the drag: ignore the slider until released
        self.fader.setToolTip("Track fader (gain in dB). Drag, scroll or use the arrow keys; double-click for 0 dB")
        self.gain.setToolTip("Track gain in dB (-96 to +12): type a value and press Enter")
        self.pan.setToolTip("Pan: left to right on the equal-power law (-3 dB each side at the centre); "
                            "double-click to centre")
        self.pan_box.setToolTip("Pan: type L30, R45, C or a number from -100 (left) to 100 (right)")
        self.fader.valueChanged.connect(lambda v: self._set("gain_db", fader_db(v)))
        self.pan.valueChanged.connect(lambda v: self._set("pan", v / 100))
        self.gain.valueChanged.connect(lambda v: self._typed("gain_db", v))
        self.pan_box.valueChanged.connect(lambda v: self._typed("pan", v / 100))
        for slider, what in ((self.fader, "gain_db"), (self.pan, "pan")):
            slider.sliderPressed.connect(lambda what=what: self._begin(what))
            slider.sliderReleased.connect(self._commit)
            slider.installEventFilter(self)
        self.sync(track)

    # -- model -> widgets ---------------------------------------------------------------------
    def sync(self, track: Track) -> None:
        """Show the track's values without sending them back as edits."""
        for widget, value in ((self.fader, fader_position(track.gain_db)), (self.gain, track.gain_db),
                              (self.pan, int(round(track.pan * 100))), (self.pan_box, int(round(track.pan * 100)))):
            if widget.value() != value:
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)
        stereo = self.doc.project.mix_channels == 2
        for w in (self.pan, self.pan_box):
            w.setEnabled(stereo)
        if not stereo:
            self.pan.setToolTip("The mix bus is mono: pan has no effect (Mix > Stereo mix bus)")

    # -- widgets -> edits -----------------------------------------------------------------------
    def _plan(self, what: str, value: float):
        project = self.doc.project
        if not any(t.id == self.track_id for t in project.tracks):
            return None
        return (plan_fader if what == "gain_db" else plan_pan)(project, self.track_id, value)

    def _set(self, what: str, value: float) -> None:
        if self._cancelled:
            self.sync(self.doc.project.track(self.track_id))
            return
        edit = self._plan(what, value)
        if edit is not None:
            self.doc.apply(edit, gesture=self._gesture if self._gesture_what == what else None)

    def _typed(self, what: str, value: float) -> None:
        self._set(what, value)

    def _begin(self, what: str) -> None:
        name = self.doc.project.track(self.track_id).name
        self._gesture = self.doc.begin_gesture(f"{'Fader' if what == 'gain_db' else 'Pan'} of {name}")
        self._gesture_what = what

    def _commit(self) -> None:
        self._cancelled = False
        token, self._gesture, self._gesture_what = self._gesture, None, None
        if token is not None:
            self.doc.commit_gesture(token)

    def cancel(self) -> bool:
        """Escape during a drag: the drag's edits are undone and the control returns."""
        token, self._gesture, self._gesture_what = self._gesture, None, None
        if token is None:
            return False
        self._cancelled = True
        self.doc.cancel_gesture(token)
        if any(t.id == self.track_id for t in self.doc.project.tracks):
            self.sync(self.doc.project.track(self.track_id))
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.MouseButtonDblClick:
            if self._gesture is not None:
                self._commit()
            self._set("gain_db" if watched is self.fader else "pan", 0.0)
            return True
        escape = kind in (QEvent.ShortcutOverride, QEvent.KeyPress) and event.key() == Qt.Key_Escape
        if escape and self._gesture is not None:
            event.accept()                       # the key is this drag's, not the window's shortcut
            if kind == QEvent.KeyPress:
                self.cancel()
            return True
        return False

    # -- placement --------------------------------------------------------------------------------
    def place(self, top: int, height: int, header_width: int, visible: bool, dim: bool) -> None:
        """Lay the widgets out in the header row starting at `top` (canvas pixels)."""
        x0, right = 8, header_width - 8
        meter_x = right - self.meter.width()
        show_fader = visible and height >= MIN_HEIGHT_FOR_FADER
        show_pan = visible and height >= MIN_HEIGHT_FOR_PAN
        bottom = top + height - 26                      # the row of the painted mute/solo buttons
        # Tall rows: fader under the name, pan beside mute/solo. Short rows: the fader beside them.
        fader_left, y_fader = (x0 + 2, top + 24) if show_pan else (x0 + 56, bottom)
        geometry = {
            self.fader: QRect(fader_left, y_fader, meter_x - BOX_W - fader_left - 6, ROW_H),
            self.gain: QRect(meter_x - BOX_W - 3, y_fader, BOX_W, ROW_H),
            self.pan: QRect(meter_x - PAN_BOX_W - DIAL - 6, bottom - 1, DIAL, DIAL),
            self.pan_box: QRect(meter_x - PAN_BOX_W - 3, bottom, PAN_BOX_W, ROW_H),
            self.meter: QRect(meter_x, top + 6, self.meter.width(), height - 12),
        }
        shown = {self.fader: show_fader, self.gain: show_fader, self.pan: show_pan, self.pan_box: show_pan,
                 self.meter: visible and height >= 30}
        for widget, rect in geometry.items():
            if widget.geometry() != rect:
                widget.setGeometry(rect)
            if widget.isVisibleTo(self.controls.canvas) != shown[widget]:
                widget.setVisible(shown[widget])
        if self.meter.property("dim") != dim:
            self.meter.setProperty("dim", dim)
            self.fader.setProperty("dim", dim)
            for w in (self.fader, self.gain):
                w.setStyleSheet(_STYLE + ("QWidget { color: #6a6f78; }" if dim else ""))

    def delete(self) -> None:
        self.cancel()
        for w in self.widgets:
            w.hide()
            w.deleteLater()
        self.deleteLater()


class TrackControls(QObject):
    """The strips of every track, kept in step with the project and the canvas geometry."""

    def __init__(self, canvas: "TimelineCanvas"):
        super().__init__(canvas)
        self.canvas = canvas
        self.doc = canvas.doc
        self.strips: dict[str, TrackStrip] = {}
        self._layout_key: tuple | None = None
        self._relayout = QTimer(self, singleShot=True, interval=0)
        self._relayout.timeout.connect(self.relayout)
        self.doc.changed.connect(self.sync)
        self.sync()

    def strip(self, track_id: str) -> TrackStrip:
        return self.strips[track_id]

    def sync(self) -> None:
        """Strips for the tracks there are now, showing their values."""
        tracks = self.doc.project.tracks
        ids = {t.id for t in tracks}
        for tid in [t for t in self.strips if t not in ids]:
            self.strips.pop(tid).delete()
        for track in tracks:
            strip = self.strips.get(track.id)
            if strip is None:
                self.strips[track.id] = TrackStrip(self, track)
            else:
                strip.sync(track)
        self._layout_key = None
        self.relayout()

    def follow(self) -> None:
        """Called as the canvas paints: move the strips after this paint if the geometry changed."""
        if self._key() != self._layout_key:
            self._relayout.start()

    def _key(self) -> tuple:
        g = self.canvas.geo
        audible = self._audible()
        return (g.scroll_y, g.track_height, g.header_width, g.tracks_top, self.canvas.height(),
                tuple(t.id for t in self.doc.project.tracks), frozenset(audible))

    def _audible(self) -> set[str]:
        return {t.id for t in self.doc.project.audible_tracks()}

    def relayout(self) -> None:
        g = self.canvas.geo
        audible = self._audible()
        for row, track in enumerate(self.doc.project.tracks):
            strip = self.strips.get(track.id)
            if strip is None:
                continue
            top = g.track_top(row)
            visible = top >= g.tracks_top and top + g.track_height <= self.canvas.height()
            strip.place(top, g.track_height, g.header_width, visible, track.id not in audible)
        self._layout_key = self._key()

    def show_levels(self, levels: Any) -> None:
        """A reading of what was heard (`OutputLevels`; None: nothing this poll, the meters fall)."""
        tracks = getattr(levels, "tracks", None) or {}
        for tid, strip in self.strips.items():
            strip.meter.feed(tracks.get(tid))
