"""Matching detected onsets to true event times, shared by evaluation (onset F1) and training
(the video sync stage's validation F1), so both count a hit the same way."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def match_onsets(detected: np.ndarray, truth: np.ndarray, tolerance_s: float = 0.05
                 ) -> list[tuple[int, int]]:
    """One-to-one pairs (i_detected, j_true) with |d_i - t_j| <= tolerance: as many as possible,
    then the smallest total distance."""
    d = np.asarray(detected, dtype=float)
    t = np.asarray(truth, dtype=float)
    if len(d) == 0 or len(t) == 0:
        return []
    dist = np.abs(d[:, None] - t[None, :])
    valid = dist <= tolerance_s + 1e-9
    # an invalid pair costs more than every valid pairing together, so cardinality comes first
    big = (min(len(d), len(t)) + 1) * (tolerance_s + 1.0)
    rows, cols = linear_sum_assignment(np.where(valid, dist, big))
    return [(int(r), int(c)) for r, c in zip(rows, cols) if valid[r, c]]
