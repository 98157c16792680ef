"""The generate panel: describe or reference a sound for the selected region and queue takes.

Region rules (what each mode sends to the engine):
- Text → audio: the region on the target track is generated from the picture and the prompt.
- Extend: continues the mix before the region (`context_seconds` of it, given as latents).
- Inpaint region: uses the mix before *and* after the region, as much of each as exists.
- Analogy: the reference slot's sound is prepended as the condition (eq. 3). A library sound has
  no picture (∅_v); a timeline clip is referenced as the project mix over the clip's span, so its
  picture comes along.
The panel says in words which audio will be used before anything runs.

`install_generation(window)` builds the panels, the engine worker, the jobs list and the keyboard
flow (G, Ctrl+Enter, 1..8, Enter) into the main window.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QMenu, QPushButton, QProgressBar, QSizePolicy, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from foley_studio.core.errors import FoleyError
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.engine.errors import EngineError, RequestError
from foley_studio.engine.jobs import JobResult, JobState
from foley_studio.engine.request import MAX_REFERENCE_SECONDS, GenerationRequest, ReferenceClip
from foley_studio.session import generation as gen

from .engine_worker import EngineWorker
from .jobs_panel import JobsPanel
from .mime import LIBRARY_MIME, LibraryDrag, decode_library_drag
from .qt_bridge import TaskRunner
from .settings import editor_settings
from .takes_panel import TakesPanel

if TYPE_CHECKING:
    from foley_studio.engine.pipeline import Progress

log = logging.getLogger(__name__)

MAX_TAKES_PER_RUN = gen.MAX_TAKES_PER_RUN
MAX_RECENT_PROMPTS = 15
PRESET_SEEDS, PRESET_CFG = "vary seed", "vary γ"


_settings = editor_settings


def _seconds(samples: int) -> str:
    return f"{samples / SAMPLE_RATE:.2f} s"


# ---------------------------------------------------------------------------------------------
# Reference slot
# ---------------------------------------------------------------------------------------------

@dataclass
class Reference:
    """The sound an analogy imitates: a file range, or the project mix over a timeline clip's span."""

    name: str
    path: str | None               # None: the project mix (a timeline clip; brings the picture)
    start: int                     # samples of `path` (or of the timeline)
    end: int
    waveform: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)
    waveform_start: int = 0        # sample the waveform's first value stands for

    def clip(self) -> ReferenceClip:
        return ReferenceClip(self.path, self.start, self.end)


class _ReferenceWave(QWidget):
    """The reference's waveform with the chosen range highlighted."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.reference: Reference | None = None
        self.setMinimumHeight(40)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def paintEvent(self, _event: Any) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#17191c"))
        ref = self.reference
        if ref is None or ref.waveform.size == 0:
            p.end()
            return
        wave = ref.waveform
        w, h = self.width(), self.height()
        total = len(wave)
        a = (ref.start - ref.waveform_start) / total * w
        b = (ref.end - ref.waveform_start) / total * w
        p.fillRect(int(a), 0, max(1, int(b - a)), h, QColor("#2a3f52"))
        cols = np.linspace(0, total, w + 1).astype(np.int64)
        peak = max(1e-3, float(np.abs(wave).max()))
        p.setPen(QPen(QColor("#bfe4f5"), 1))
        for x in range(w):
            seg = wave[cols[x]:max(cols[x + 1], cols[x] + 1)]
            lo, hi = float(seg.min()) / peak, float(seg.max()) / peak
            p.drawLine(x, int(h / 2 - hi * (h / 2 - 2)), x, int(h / 2 - lo * (h / 2 - 2)))
        p.end()


class ReferenceSlot(QGroupBox):
    """Drop a library sound (or take the selected timeline clip) as the analogy reference."""

    referenceChanged = Signal(object)      # Reference or None

    def __init__(self, document: Any, parent: QWidget | None = None):
        super().__init__("Reference (analogy)", parent)
        self.doc = document
        self.reference: Reference | None = None
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.wave = _ReferenceWave(self)
        layout.addWidget(self.label)
        layout.addWidget(self.wave)
        row = QHBoxLayout()
        self.start_spin, self.end_spin = QDoubleSpinBox(self), QDoubleSpinBox(self)
        for spin, tip in ((self.start_spin, "Start of the range to imitate (s of the sound)"),
                          (self.end_spin, f"End of the range (at most {MAX_REFERENCE_SECONDS:g} s after the start)")):
            spin.setDecimals(2)
            spin.setSuffix(" s")
            spin.setSingleStep(0.1)
            spin.setToolTip(tip)
            spin.valueChanged.connect(self._range_edited)
        self.use_clip_button = QPushButton("Use selected clip", self)
        self.use_clip_button.setToolTip("Reference the selected timeline clip (with its picture)")
        self.use_clip_button.clicked.connect(self.use_selected_clip)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.clicked.connect(lambda: self.set_reference(None))
        row.addWidget(QLabel("From", self))
        row.addWidget(self.start_spin)
        row.addWidget(QLabel("to", self))
        row.addWidget(self.end_spin)
        row.addStretch(1)
        layout.addLayout(row)
        row = QHBoxLayout()                   # a row of their own: beside the range they widened the panel
        row.addStretch(1)
        row.addWidget(self.use_clip_button)
        row.addWidget(self.clear_button)
        layout.addLayout(row)
        self._show()

    # -- drops ---------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(LIBRARY_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(LIBRARY_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        items = decode_library_drag(event.mimeData())
        if items:
            self.set_library_sound(items[0])
            event.acceptProposedAction()

    # -- sources -------------------------------------------------------------------------------------
    def set_library_sound(self, item: LibraryDrag) -> None:
        try:
            span = gen.file_reference(item.path, *item.span)
        except FoleyError as exc:
            self.label.setText(f"Cannot use {item.name}: {exc}")
            return
        self.set_reference(Reference(item.name, item.path, span.start, span.end, span.waveform, span.waveform_start))

    def use_selected_clip(self) -> bool:
        clips = self.doc.selected_clip_objects()
        if not clips:
            self.label.setText("Select a clip on the timeline first, then press “Use selected clip”.")
            return False
        clip = clips[-1]
        span = gen.timeline_reference(self.doc.project, clip)
        self.set_reference(Reference(f"{clip.name or clip.id} (timeline)", None, span.start, span.end,
                                     span.waveform, span.waveform_start))
        return True

    def set_reference(self, reference: Reference | None) -> None:
        self.reference = reference
        self._show()
        self.referenceChanged.emit(reference)

    def _range_edited(self) -> None:
        ref = self.reference
        if ref is None:
            return
        base = 0 if ref.path is not None else ref.waveform_start
        start = base + round(self.start_spin.value() * SAMPLE_RATE)
        end = base + round(self.end_spin.value() * SAMPLE_RATE)
        if end > start:
            ref.start, ref.end = start, end
            self.wave.update()
            self._describe()

    def _show(self) -> None:
        ref = self.reference
        self.wave.reference = ref
        self.wave.setVisible(ref is not None)
        for spin in (self.start_spin, self.end_spin):
            spin.setEnabled(ref is not None)
        if ref is not None:
            base = 0 if ref.path is not None else ref.waveform_start
            for spin, value in ((self.start_spin, ref.start), (self.end_spin, ref.end)):
                spin.blockSignals(True)
                spin.setRange(0.0, 24 * 3600.0)
                spin.setValue((value - base) / SAMPLE_RATE)
                spin.blockSignals(False)
        self._describe()
        self.wave.update()

    def _describe(self) -> None:
        ref = self.reference
        if ref is None:
            self.label.setText("Drag a sound here from the library, or select a timeline clip and press "
                               "“Use selected clip”.")
            self.label.setProperty("role", "hint")
        else:
            picture = "with its picture" if ref.path is None else "sound only (a sound file brings no picture)"
            self.label.setText(f"<b>{ref.name}</b>: {_seconds(ref.end - ref.start)} used, {picture}")
            self.label.setProperty("role", "")


# ---------------------------------------------------------------------------------------------
# The panel
# ---------------------------------------------------------------------------------------------

def _list_models() -> tuple[list, str, str]:
    """On a worker: the installed models, an error ("" when listing worked), how to get a model."""
    from foley_studio.core.paths import user_models_dir
    from foley_studio.model.checkpoint import HOW_TO_GET, ModelRegistry
    try:
        models, error = ModelRegistry().list(), ""
    except Exception as exc:        # an unreadable models folder must not break the panel
        log.warning("listing models failed: %s", exc)
        models, error = [], f"Cannot list the installed models: {exc}"
    return models, error, HOW_TO_GET.format(user_dir=user_models_dir())


class GeneratePanel(QWidget):
    """Settings for a generation of the selected region; Generate queues it on the engine worker."""

    statusMessage = Signal(str)
    modelsListed = Signal()
    takesAdded = Signal(list)             # take ids added to the project by a finished job

    def __init__(self, document: Any, worker: EngineWorker, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = document
        self.worker = worker
        self.service: gen.GenerationService = worker.service
        self.current_jobs: list[str] = []      # the jobs of the last Generate (Cancel stops these)
        self.models_ready = False
        self._closing = False
        self._lister = TaskRunner(self, "model-listing")
        self._build()
        # After the first paint: the registry brings torch in, which must not delay the window.
        QTimer.singleShot(0, self.refresh_models)
        self._load_recent_prompts()
        document.regionChanged.connect(self.update_context)
        document.selectedTrackChanged.connect(self.update_context)
        document.changed.connect(self.update_context)
        document.pathChanged.connect(self.adopt_scratch_takes)
        worker.progress.connect(self._on_progress)
        worker.jobFinished.connect(self._on_finished)
        worker.busyChanged.connect(self._on_busy)
        worker.modelLoaded.connect(self._on_model_loaded)
        self.update_context()

    # -- construction --------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight)
        self.mode = QComboBox(self)
        for value, text in gen.MODE_LABELS.items():
            self.mode.addItem(text, value)
        self.mode.currentIndexChanged.connect(self.update_context)
        form.addRow("Mode", self.mode)
        self.prompt = QComboBox(self)
        self.prompt.setEditable(True)
        # Sized by a few words, not by the longest recent prompt (which would widen the window at start-up).
        self.prompt.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.prompt.setMinimumContentsLength(8)
        self.prompt.setInsertPolicy(QComboBox.NoInsert)
        self.prompt.lineEdit().setPlaceholderText("e.g. heavy wooden door slams shut")
        self.prompt.setToolTip("What the sound should be (recent prompts in the list)")
        form.addRow("Prompt", self.prompt)
        self.negative = QLineEdit(self)
        self.negative.setPlaceholderText("what to steer away from (optional)")
        form.addRow("Negative", self.negative)
        self.quality = QComboBox(self)
        for value, text in gen.QUALITY_LABELS.items():
            self.quality.addItem(text, value)
        # No tag by default, as `foley-studio generate`: the bundled demo model's "high quality" tag overshoots
        # into hiss at the default γ (docs/EVALUATION.md), while untagged takes have the right spectrum.
        self.quality.setCurrentIndex(self.quality.findData(None))
        self.quality.setToolTip("Quality tag (eq. 4): “high quality” steers toward clean, full-band sound")
        form.addRow("Quality", self.quality)
        self.cfg = QDoubleSpinBox(self)
        self.cfg.setRange(0.0, 30.0)
        self.cfg.setSingleStep(0.5)
        self.cfg.setValue(4.0)
        self.cfg.setToolTip("Guidance scale γ: higher follows the controls more closely; 3–5 is typical")
        self.steps = QSpinBox(self)
        self.steps.setRange(1, 200)
        self.steps.setValue(25)
        self.sampler = QComboBox(self)
        self.sampler.addItem("DPM++", "dpmpp")
        self.sampler.addItem("DDIM", "ddim")
        row = QHBoxLayout()
        row.addWidget(self.cfg, 1)
        row.addWidget(QLabel("Steps", self))
        row.addWidget(self.steps, 1)
        row.addWidget(self.sampler, 1)
        form.addRow("Guidance γ", row)
        self.n_takes = QSpinBox(self)
        self.n_takes.setRange(1, MAX_TAKES_PER_RUN)
        self.n_takes.setValue(4)
        self.preset = QComboBox(self)
        self.preset.addItem("Vary seed", PRESET_SEEDS)
        self.preset.addItem("Vary γ", PRESET_CFG)
        self.preset.setToolTip("Fill the row of takes with different seeds, or one seed at different γ values")
        row = QHBoxLayout()
        row.addWidget(self.n_takes)
        row.addWidget(self.preset, 1)
        form.addRow("Takes", row)
        self.seed_mode = QComboBox(self)
        self.seed_mode.addItem("Random seed", "random")
        self.seed_mode.addItem("Fixed seed", "fixed")
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setEnabled(False)
        self.seed_mode.currentIndexChanged.connect(lambda _i: self.seed.setEnabled(self._seed_fixed))
        row = QHBoxLayout()
        row.addWidget(self.seed_mode)
        row.addWidget(self.seed, 1)
        form.addRow("Seed", row)
        self.model = QComboBox(self)
        self.model.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)   # model names can be long
        self.model.setMinimumContentsLength(8)
        self.model.currentIndexChanged.connect(self._on_model_picked)
        self.refresh_button = QToolButton(self)      # a push button's padding clips a one-glyph label
        self.refresh_button.setText("⟳")
        self.refresh_button.setToolTip("Look for installed models again")
        self.refresh_button.clicked.connect(self.refresh_models)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.refresh_button)
        form.addRow("Model", row)
        outer.addLayout(form)
        self.model_hint = QLabel(self)
        self.model_hint.setWordWrap(True)
        self.model_hint.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.model_hint)
        self.reference_slot = ReferenceSlot(self.doc, self)
        self.reference_slot.referenceChanged.connect(self._on_reference)
        outer.addWidget(self.reference_slot)
        self.context = QLabel(self)
        self.context.setWordWrap(True)
        outer.addWidget(self.context)
        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate  (Ctrl+Enter)", self)
        self.generate_button.setDefault(True)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        outer.addLayout(buttons)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        outer.addWidget(self.progress)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #ff8a80;")
        self.error.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error.hide()
        outer.addWidget(self.error)
        self.jobs = JobsPanel(self.worker, self, document=self.doc)
        self.jobs.setMinimumHeight(110)
        outer.addWidget(self.jobs, 1)

    @property
    def _seed_fixed(self) -> bool:
        return self.seed_mode.currentData() == "fixed"

    # -- models ---------------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        """Look for installed models off the GUI thread (the registry imports torch, seconds on a CPU)."""
        if self._closing:                   # the deferred first listing can fire after shutdown
            return
        self.models_ready = False
        self.model.setEnabled(False)
        self.generate_button.setEnabled(False)
        self.model.clear()
        self.model.addItem("looking for models…")
        self._lister.submit(_list_models, lambda listed: self._fill_models(*listed))

    def _fill_models(self, models: list, error: str, how_to_get: str) -> None:
        """Fill the picker; no models -> disabled, with what to do about it."""
        previous = str(_settings().value("generate/model", ""))
        self.model.blockSignals(True)
        self.model.clear()
        for info in models:
            self.model.addItem(f"{info.name}  ({info.config_name}, {info.source})", info.name)
            self.model.setItemData(self.model.count() - 1, str(info.path), Qt.ToolTipRole)
        index = self.model.findData(previous)
        self.model.setCurrentIndex(index if index >= 0 else 0)
        self.model.blockSignals(False)
        has = bool(models)
        self.model.setEnabled(has)
        self.generate_button.setEnabled(has)
        if has:
            self.model_hint.hide()
        else:
            self.model.addItem("no model installed")
            self.model_hint.setText(error or f"No generative model is installed, so Generate is off. To get one, "
                                    f"{how_to_get}, then press ⟳.")
            self.model_hint.show()
        self.models_ready = True
        self.modelsListed.emit()

    @property
    def model_name(self) -> str | None:
        return self.model.currentData() if self.model.isEnabled() else None

    def _on_model_picked(self, _index: int) -> None:
        name = self.model_name
        if name:
            _settings().setValue("generate/model", name)

    def warm_up(self) -> None:
        """Load the picked model on the engine thread now (the G key does this: the user is about to ask)."""
        name = self.model_name
        if name and self.worker.loaded_model != name and self.worker.idle:
            self.worker.preload(name)

    def _on_model_loaded(self, name: str, error: str) -> None:
        if error:
            self._show_error(error)
        else:
            self.statusMessage.emit(f"Model {name} loaded")

    # -- prompts --------------------------------------------------------------------------------------
    def _load_recent_prompts(self) -> None:
        value = _settings().value("generate/recent_prompts", [])
        items = [value] if isinstance(value, str) else list(value or [])
        self.prompt.clear()
        self.prompt.addItems([p for p in items if p])
        self.prompt.setCurrentText("")

    def _remember_prompt(self, text: str) -> None:
        if not text:
            return
        value = _settings().value("generate/recent_prompts", [])
        items = [value] if isinstance(value, str) else list(value or [])
        items = [text] + [p for p in items if p and p != text]
        s = _settings()
        s.setValue("generate/recent_prompts", items[:MAX_RECENT_PROMPTS])
        s.sync()
        self.prompt.blockSignals(True)
        self._load_recent_prompts()
        self.prompt.setCurrentText(text)
        self.prompt.blockSignals(False)

    # -- region rules ---------------------------------------------------------------------------------
    @property
    def mode_value(self) -> str:
        return self.mode.currentData()

    def set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def _track_name(self, track_id: str | None) -> str:
        for track in self.doc.project.tracks:
            if track.id == track_id:
                return track.name
        return "no track"

    def _time(self, samples: int) -> str:
        """A time as the timeline shows it: timecode of the picture, else seconds."""
        video = self.doc.project.video
        return video.clock.timecode(samples) if video is not None else _seconds(samples)

    def describe_context(self) -> str:
        """In words: the region, the target track, and which existing audio the engine will be given."""
        t = self._time
        region = self.doc.region
        if region is None:
            return "Select a region on the timeline (drag on the ruler, or I and O) to generate into."
        start, end = region
        track = self._track_name(self.doc.selected_track)
        where = f"{t(start)} – {t(end)} ({_seconds(end - start)}) on <b>{track}</b>"
        context = round(GenerationRequest.context_seconds * SAMPLE_RATE)
        mode = self.mode_value
        if mode == "text":
            used = "no existing audio; the picture and the prompt decide the sound."
        elif mode == "extend":
            a = max(0, start - context)
            used = (f"continues the mix {t(a)} – {t(start)} before the region." if start > 0 else
                    "<span style='color:#ff8a80'>nothing before the region to continue: move it later</span>")
        elif mode == "inpaint":
            after = min(self.doc.project.duration, end + context)
            used = (f"the mix {t(max(0, start - context))} – {t(start)} before and "
                    f"{t(end)} – {t(after)} after the region.")
        else:
            ref = self.reference_slot.reference
            used = (f"imitates <b>{ref.name}</b> (the {_seconds(ref.end - ref.start)} chosen below)."
                    if ref else "<span style='color:#ff8a80'>drop a reference sound below first</span>")
        return f"Generates {where}; {used}"

    def update_context(self) -> None:
        self.context.setText(self.describe_context())
        self.reference_slot.setVisible(self.mode_value == "analogy")

    def _on_reference(self, reference: Reference | None) -> None:
        if reference is not None and self.mode_value != "analogy":
            self.set_mode("analogy")          # dropping a reference says what the user wants
        self.update_context()

    # -- requests -------------------------------------------------------------------------------------
    def settings(self) -> gen.GenerationSettings:
        """The panel's fields as the session's generation settings (the model must be picked)."""
        if self.model_name is None:
            raise EngineError("no model installed; see the note under the model picker")
        reference = None
        if self.mode_value == "analogy":
            if self.reference_slot.reference is None:
                raise RequestError("analogy mode needs a reference: drag a library sound onto the reference "
                                   "slot, or select a timeline clip and press “Use selected clip”")
            reference = self.reference_slot.reference.clip()
        return gen.GenerationSettings(
            mode=self.mode_value, prompt=self.prompt.currentText().strip(),
            negative_prompt=self.negative.text().strip() or None, quality=self.quality.currentData(),
            reference=reference, cfg=float(self.cfg.value()), steps=int(self.steps.value()),
            sampler=self.sampler.currentData(), model=self.model_name)

    def build_requests(self) -> list[GenerationRequest]:
        """The request of one Generate: one batch of seeds, or for "vary γ" one seed at n guidance
        scales (per-take `cfgs`), also one batch: the takes share the noise and one sampling run."""
        self.service.target()               # a missing region or track is named before the settings
        settings = self.settings()
        vary = "cfg" if self.preset.currentData() == PRESET_CFG else "seed"
        seed = int(self.seed.value()) if self._seed_fixed else None
        return [self.service.request_for_session(settings, n=int(self.n_takes.value()), vary=vary, seed=seed)]

    def takes_dir(self) -> Path:
        """The project's `takes/` folder; an unsaved project's takes wait in the data dir."""
        return self.service.takes_dir()

    def adopt_scratch_takes(self) -> list[str]:
        """After an unsaved project is first saved: its takes move beside it (`GenerationService`)."""
        try:
            moved, target = self.service.adopt_scratch_takes()
        except (FoleyError, OSError) as exc:
            self._show_error(f"Could not copy the takes into the project's takes folder: {exc}; they stay in "
                             f"{gen.scratch_takes_dir()}")
            return []
        if moved:
            self.statusMessage.emit(f"Copied {len(moved)} take(s) into {target}")
        return moved

    def generate(self) -> list[str]:
        """Queue the current settings; returns the job ids (empty when the settings are refused)."""
        self._clear_error()
        try:
            requests = self.build_requests()
        except FoleyError as exc:
            self._show_error(str(exc))
            return []
        self.current_jobs = self.service.generate(requests)
        self._remember_prompt(requests[0].prompt)
        self.cancel_button.setEnabled(True)
        n = sum(len(r.seeds) for r in requests)
        self.statusMessage.emit(f"Generating {n} take{'s' if n != 1 else ''} with {requests[0].model}…")
        return self.current_jobs

    def regenerate_take(self, take_id: str) -> str | None:
        """Queue a take's own settings again (from its sidecar): same request, seed and model."""
        try:
            job = self.service.regenerate(take_id)
        except (FoleyError, KeyError) as exc:
            self._show_error(f"Cannot regenerate: {exc}")
            return None
        take = self.doc.project.take(take_id)
        self.current_jobs = [job]
        self.cancel_button.setEnabled(True)
        self.statusMessage.emit(f"Regenerating {take.label or take.id} from its sidecar…")
        return job

    def shutdown(self) -> None:
        self._closing = True
        self._lister.shutdown(30.0)         # a model listing still importing torch

    def cancel(self) -> None:
        for job_id in self.current_jobs:
            self.worker.cancel(job_id)
        self.progress.setFormat("cancelling…")

    # -- worker feedback -------------------------------------------------------------------------------
    def _on_progress(self, job_id: str, event: Progress) -> None:
        if job_id not in self.current_jobs:
            return
        done = sum(1.0 if self.worker.jobs[j].state.finished else
                   (event.fraction if j == job_id else 0.0) for j in self.current_jobs)
        self.progress.setValue(round(1000 * done / len(self.current_jobs)))
        self.progress.setFormat(f"{event.describe()}  ·  %p%")

    def _on_finished(self, job_id: str, result: JobResult) -> None:
        if result.state is JobState.FAILED:
            self._show_error(result.error or "generation failed")
        elif result.state is JobState.DONE and result.takes:
            if not self.service.for_open_project(job_id):
                self.statusMessage.emit("Takes finished for a project that is no longer open; "
                                        f"they are in {result.takes[0].wav_path.parent}")
            else:
                self._add_takes(result)
        if job_id in self.current_jobs and all(self.worker.jobs[j].state.finished for j in self.current_jobs):
            states = {self.worker.jobs[j].state for j in self.current_jobs}
            self.progress.setValue(1000 if states == {JobState.DONE} else 0)
            self.progress.setFormat("done" if states == {JobState.DONE} else
                                    "cancelled" if JobState.CANCELLED in states else "failed")
            self.cancel_button.setEnabled(False)
            if states == {JobState.CANCELLED}:
                self.statusMessage.emit("Generation cancelled; no takes were written")

    def _add_takes(self, result: JobResult) -> None:
        try:
            ids = self.service.add_takes(result)
        except FoleyError as exc:
            self._show_error(f"Takes were written but could not be added to the project: {exc}")
            return
        info = self.worker.jobs.get(result.job_id)
        when = f" in {info.first_take_s:.1f} s" if info and info.first_take_s is not None else ""
        self.statusMessage.emit(f"{len(ids)} new take{'s' if len(ids) != 1 else ''}{when}")
        self.takesAdded.emit(ids)

    def _on_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.statusMessage.emit(message)

    def _clear_error(self) -> None:
        self.error.clear()
        self.error.hide()


# ---------------------------------------------------------------------------------------------
# Wiring into the main window
# ---------------------------------------------------------------------------------------------

@dataclass
class Generation:
    """What `install_generation` added to a window (tests and the screenshot script reach in here)."""

    worker: EngineWorker
    panel: GeneratePanel
    takes: TakesPanel
    actions: dict[str, QAction]

    def shutdown(self) -> None:
        self.panel.shutdown()
        self.takes.shutdown()
        self.worker.shutdown()


def _is_text_input(widget: QWidget | None) -> bool:
    return isinstance(widget, (QLineEdit, QAbstractSpinBox)) or (
        isinstance(widget, QComboBox) and widget.isEditable())


def install_generation(window: Any, worker: EngineWorker | None = None) -> Generation:
    """Put the generate and takes panels into `window`'s docks and add the keyboard flow.

    G focuses the generate panel (and warms the model up), Ctrl+Enter generates, 1..8 audition the
    takes, Enter uses the auditioned take (or generates, when typing in the panel's fields).
    """
    doc = window.doc
    worker = worker or EngineWorker(session=doc.session, parent=window)

    def stop_main_playback() -> None:
        if getattr(window, "playback", None) is not None:
            window.playback.stop()

    def stop_audition(playing: bool) -> None:
        if playing:                       # the transport started: one thing plays at a time
            takes.auditioner.stop()

    takes = TakesPanel(doc, before_play=stop_main_playback, parent=window)
    panel = GeneratePanel(doc, worker, parent=window)
    if getattr(window, "playback", None) is not None:
        window.playback.playingChanged.connect(stop_audition)
    window.set_dock_widget("generate", panel)
    window.set_dock_widget("takes", takes)
    for source in (panel.statusMessage, takes.statusMessage):
        source.connect(window.show_message)
    takes.regenerateRequested.connect(panel.regenerate_take)
    worker.progress.connect(lambda _job, event: takes.set_activity(f"generating: {event.describe()}"))
    worker.busyChanged.connect(lambda busy: None if busy else takes.set_activity(""))
    panel.takesAdded.connect(lambda _ids: window.docks["takes"].raise_())

    def focus_panel() -> None:
        dock = window.docks["generate"]
        dock.show()
        dock.raise_()
        panel.prompt.setFocus(Qt.ShortcutFocusReason)
        panel.prompt.lineEdit().selectAll()
        panel.warm_up()

    def generate() -> None:
        window.docks["generate"].raise_()
        panel.generate()

    def audition(number: int) -> None:
        window.docks["takes"].show()
        window.docks["takes"].raise_()
        takes.audition_number(number)

    def enter() -> None:
        if panel.isAncestorOf(window.focusWidget()):
            panel.generate()              # Enter in the prompt means "go"
        else:
            takes.use_take()

    actions: dict[str, QAction] = {}

    def add(key: str, text: str, slot: Any, shortcuts: list[str]) -> None:
        action = QAction(text, window)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.WindowShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        window.addAction(action)
        actions[key] = action

    add("focus", "Generate panel", focus_panel, ["G"])
    add("generate", "Generate takes", generate, ["Ctrl+Return", "Ctrl+Enter"])
    add("cancel", "Cancel generation", panel.cancel, ["Ctrl+."])
    for k in range(1, MAX_TAKES_PER_RUN + 1):
        add(f"take{k}", f"Audition take {k}", lambda k=k: audition(k), [str(k)])
    add("use", "Use auditioned take", enter, ["Return", "Enter"])
    menu = QMenu("&Generate", window)
    help_menu = getattr(window, "help_menu", None)        # Help stays the last menu
    if help_menu is not None:
        window.menuBar().insertMenu(help_menu.menuAction(), menu)
    else:
        window.menuBar().addMenu(menu)
    for key in ("focus", "generate", "cancel", "use"):
        menu.addAction(actions[key])
    audition_menu = menu.addMenu("Audition take")
    for k in range(1, MAX_TAKES_PER_RUN + 1):
        audition_menu.addAction(actions[f"take{k}"])
    generation = Generation(worker, panel, takes, actions)
    window.generation = generation
    return generation
