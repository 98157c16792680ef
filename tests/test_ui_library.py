"""Library panel: the table model (qtmodeltester), search as you type, preview from a click, drags."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from foley_studio.library import LibraryEntry
from foley_studio.ui.library_panel import LibraryPanel, LibraryTableModel
from foley_studio.core.project import Project, Track
from foley_studio.ui.document import ProjectDocument
from foley_studio.ui.generate_panel import ReferenceSlot
from foley_studio.ui.mime import LIBRARY_MIME, decode_library_drag
from tests.media_fixtures import make_tone

pytestmark = pytest.mark.gui


def _entry(path: Path, description: str, duration: float, rate: int = 48000) -> LibraryEntry:
    return LibraryEntry(id=abs(hash(path)) % 10_000, path=str(path), size=1, mtime_ns=0, duration=duration,
                        sample_rate=rate, channels=1, bit_depth=24, codec="PCM_24", peak_db=-6.0, rms_db=-12.0,
                        overview=np.zeros(128, np.uint8), name=path.stem, folders="", category="", subcategory="",
                        fx_name="", creator="", description=description)


class FakeIndex:
    """The two calls the panel makes, over a fixed list (a real index needs minutes of embedding)."""

    def __init__(self, entries: list[LibraryEntry]):
        self.entries = entries
        self.queries: list[str] = []

    def search(self, query: str, limit: int = 50) -> list[LibraryEntry]:
        self.queries.append(query)
        words = query.lower().split()
        return [e for e in self.entries if all(w in f"{e.name} {e.description}".lower() for w in words)][:limit]


class FakePlayer:
    def __init__(self):
        self.starts: list[tuple[int, int]] = []
        self.render = None
        self.active = False

    def start(self, project, start, *, end=None, **_):
        self.starts.append((start, end))
        self.active = True

    def stop(self):
        self.active = False

    def position(self):
        return self.starts[-1][0] if self.starts else 0


@pytest.fixture
def entries(tmp_path) -> list[LibraryEntry]:
    specs = [("door_slam", "heavy wooden door slam", 1.0, 48000), ("gravel_steps", "footsteps on gravel", 2.0, 44100),
             ("glass_break", "glass bottle breaks", 0.5, 96000)]
    return [_entry(make_tone(tmp_path / f"{name}.wav", seconds=d, freq=300 + 200 * i), desc, d, rate)
            for i, (name, desc, d, rate) in enumerate(specs)]


def test_table_model_passes_qtmodeltester(qtmodeltester, entries):
    model = LibraryTableModel()
    model.set_entries(entries)
    qtmodeltester.check(model)
    assert model.rowCount() == 3 and model.columnCount() == 4
    assert model.data(model.index(1, 0)) == "gravel_steps"
    assert model.data(model.index(1, 1)) == "0:02.000"
    assert model.data(model.index(1, 2)) == "44.1 kHz"
    assert model.data(model.index(2, 3)) == "glass bottle breaks"
    mime = model.mimeData([model.index(0, 0), model.index(0, 2)])
    drags = decode_library_drag(mime)
    assert len(drags) == 1 and drags[0].path == entries[0].path and drags[0].duration == 1.0
    model.set_entries([])
    qtmodeltester.check(model)


def test_search_as_you_type_preview_from_click_and_drag_to_reference(qtbot, entries):
    index, player = FakeIndex(entries), FakePlayer()
    panel = LibraryPanel(index, player)
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    assert panel.model.rowCount() == 3
    qtbot.keyClicks(panel.search_box, "gravel")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=3000)
    assert index.queries[-1] == "gravel"
    assert len(index.queries) <= 3, "typing must be debounced, not one search per key"
    assert panel.count_label.text() == "1 sound"
    panel.table.selectRow(0)
    qtbot.waitUntil(lambda: panel._audio is not None, timeout=3000)
    assert len(panel._audio) == 2 * 48000
    # A click at 25 % of the strip plays from 0.5 s.
    strip = panel.preview
    qtbot.mouseClick(strip, Qt.LeftButton, pos=QPointF(strip.width() * 0.25, strip.height() / 2).toPoint())
    start, end = player.starts[-1]
    assert end == 2 * 48000 and abs(start - 24000) <= 2 * 48000 / strip.width() + 1
    assert np.array_equal(player.render(None, 100, 110), panel._audio[100:110])
    # The row's drag payload lands on the generate panel's (real) reference slot.
    slot = ReferenceSlot(ProjectDocument(Project(tracks=[Track(id="t", name="t")])))
    qtbot.addWidget(slot)
    mime = panel.model.mimeData([panel.model.index(0, 0)])
    assert mime.hasFormat(LIBRARY_MIME)
    # Qt delivers a drop only to a widget that accepted the drag's entry, as in a real drag.
    QApplication.sendEvent(slot, QDragEnterEvent(QPointF(5, 5).toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    QApplication.sendEvent(slot, QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert slot.reference is not None and slot.reference.path == entries[1].path
    assert slot.reference.waveform.size > 0 and "used, sound only" in slot.label.text()
    assert "∅" not in slot.label.text()                  # plain words, not the paper's symbols
    panel.stop_preview()


def test_bad_query_keeps_results_and_reports(qtbot, entries):
    class Picky(FakeIndex):
        def search(self, query, limit=50):
            if '"' in query:
                raise ValueError('unbalanced quote in "door')
            return super().search(query, limit)
    panel = LibraryPanel(Picky(entries))
    qtbot.addWidget(panel)
    messages = []
    panel.statusMessage.connect(messages.append)
    panel.search_box.setText('"door')
    panel.run_search()
    assert panel.model.rowCount() == 3 and panel.count_label.text() == "query error"
    assert "unbalanced" in messages[-1]


def _sounds(folder: Path, n: int) -> Path:
    from tests.library_helpers import tone, write_wav
    for i in range(n):
        write_wav(folder / f"metal_hit_{i:02d}.wav", tone(0.05, 400 + 40 * i))
    return folder


@pytest.fixture
def real_panel(qtbot, tmp_path):
    from foley_studio.library import LibraryIndex
    from tests.library_helpers import BagOfWordsEmbedder
    index = LibraryIndex(tmp_path / "lib.sqlite3", text_embedder=BagOfWordsEmbedder)
    panel = LibraryPanel(index)
    qtbot.addWidget(panel)
    panel.resize(460, 520)
    panel.show()
    qtbot.waitExposed(panel)
    messages: list[str] = []
    panel.statusMessage.connect(messages.append)
    yield panel, messages
    panel.shutdown()
    index.close()


def test_add_folder_button_scans_it_in_with_progress_and_the_rate_column_reads_whole(qtbot, real_panel, tmp_path,
                                                                                     monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    panel, messages = real_panel
    folder = _sounds(tmp_path / "sfx", 5)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    assert panel.model.rowCount() == 0
    qtbot.mouseClick(panel.add_button, Qt.LeftButton)
    assert panel.scanning and panel.scan_bar.isVisible() and not panel.add_button.isEnabled()
    with qtbot.waitSignal(panel.scanFinished, timeout=60_000) as done:
        pass
    report = done.args[0]
    assert report.added == 5 and not report.cancelled
    assert not panel.scanning and not panel.scan_bar.isVisible() and panel.add_button.isEnabled()
    assert "5 sounds indexed" in messages[-1]
    assert panel.model.rowCount() == 5 and panel.count_label.text() == "5 sounds"
    assert panel.index.folders() == [folder.resolve()]
    rate = panel.model.index(0, 2)
    assert panel.model.data(rate) == "48 kHz"
    assert panel.table.columnWidth(2) >= panel.table.sizeHintForColumn(2), "the rate must not be cut"
    assert panel.table.columnWidth(1) >= panel.table.sizeHintForColumn(1)
    header = panel.table.horizontalHeader()
    assert all(panel.table.columnWidth(c) >= header.sectionSizeHint(c) for c in (1, 2))
    # On a desktop with a larger font the columns grow with it (fixed pixel widths cut "48 kHz" to "48 kH").
    from PySide6.QtGui import QFont
    normal = QApplication.font()
    big = QFont(normal)
    big.setPointSizeF(normal.pointSizeF() * 1.8)
    QApplication.setFont(big)
    try:
        wide = LibraryPanel(panel.index)
        qtbot.addWidget(wide)
        wide.show()
        assert wide.model.rowCount() == 5
        assert all(wide.table.columnWidth(c) >= wide.table.sizeHintForColumn(c) for c in (1, 2))
        wide.shutdown()
    finally:
        QApplication.setFont(normal)


def test_a_scan_can_be_cancelled_from_the_panel_and_keeps_what_it_read(qtbot, real_panel, tmp_path, monkeypatch):
    import threading

    from foley_studio.library import scanner
    panel, messages = real_panel
    folder = _sounds(tmp_path / "many", 10)
    gate = threading.Event()
    real_read = scanner.read_metadata

    def held(path, **kwargs):
        if int(Path(path).stem[-2:]) >= 4 and not gate.wait(30):      # batches of 2: the third waits here
            raise AssertionError("the test never opened the gate")
        return real_read(path, **kwargs)
    monkeypatch.setattr(scanner, "BATCH", 2)
    monkeypatch.setattr(scanner, "read_metadata", held)
    monkeypatch.setattr(scanner.LibraryScanner, "_plan_root",                 # in name order, for the gate
                        lambda self, *a, _plan=scanner.LibraryScanner._plan_root: sorted(
                            _plan(self, *a), key=lambda item: item[0].path))
    assert panel.add_folder(folder)
    qtbot.waitUntil(lambda: "Reading 4 of 10" in panel.scan_bar.label.text(), timeout=30_000)
    assert panel.scan_bar.bar.maximum() == 10 and panel.scan_bar.bar.value() == 4
    with qtbot.waitSignal(panel.scanFinished, timeout=60_000) as done:
        qtbot.mouseClick(panel.scan_bar.cancel_button, Qt.LeftButton)
        gate.set()
    report = done.args[0]
    assert report.cancelled and 4 <= report.added < 10
    assert "cancelled" in messages[-1] and panel.model.rowCount() == report.added
    assert len(panel.index) == report.added
