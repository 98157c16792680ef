"""Metrics over embeddings: Fréchet distance between two sets (FAD-like) and cosine similarity
(the extension continuity score, the paper's CLAP similarity of continuation vs ground truth)."""
from __future__ import annotations

import math

import numpy as np
from scipy import linalg


def frechet_distance(a: np.ndarray, b: np.ndarray, *, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two embedding sets (rows are samples).

    ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)). With fewer samples than dimensions the
    covariances are singular; `eps` on the diagonal keeps the square root defined (as in FID code),
    and the number stays biased upwards for small sets — compare only sets of equal size.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need two (N, D) sets with the same D, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        return math.nan
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    offset = eps * np.eye(a.shape[1])
    covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = np.real(covmean)
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (N, D) sets (or two (D,) vectors): (N,) or scalar array."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    num = (a * b).sum(axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
