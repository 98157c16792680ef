"""What the editor's views read from the project, Qt-free: sources for display built from the mix."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from foley_studio.core.project import Project, Track
from foley_studio.media.spectrogram import TileSource


def track_tile_source(track: Track, sources: Any = None) -> TileSource:
    """Spectrogram tiles of one track's mix (gain, fades and clips as they are now).

    The source reads a copy of the track, so a worker computing tiles never sees later edits; its
    key names the track's content, so an edit makes a new source and cached tiles of the old stay valid.
    """
    content = (track.id, track.gain_db, tuple((c.source, c.start, c.source_in, c.source_out, c.gain_db,
                                               c.fade_in, c.fade_out) for c in track.clips))
    snapshot = Project(tracks=[copy.deepcopy(track)])

    def read(a: int, b: int) -> np.ndarray:
        from foley_studio.media.mixdown import mixdown
        return mixdown(snapshot, a, b, track_ids=[track.id], sources=sources)
    return TileSource(key=("mix", content), read=read)
