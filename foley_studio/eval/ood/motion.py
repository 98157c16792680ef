"""Motion that meets a surface on chosen frames, and the contact frames read back from geometry.

Every scene plans its event frames first and then builds motion that closes a *gap* (the distance
between two surfaces, in world units) to exactly zero on those frames and keeps it positive on the
frames around them. `contact_onsets(gap)` recovers the events from the gap alone, which is what the
tests hold the planners to.
"""
from __future__ import annotations

import numpy as np

GRAVITY = 9.81            # m/s^2: real gravity at each clip's real frame rate
CONTACT_EPS = 1e-9


def contact_onsets(gap: np.ndarray) -> np.ndarray:
    """Frames where a gap closes: zero (touching) now and open on the frame before."""
    touching = np.asarray(gap) <= CONTACT_EPS
    return np.flatnonzero(touching[1:] & ~touching[:-1]) + 1


def flight_heights(n_frames: int, fps: float, flights: list[tuple[int, int]], *,
                   drop: tuple[int, int] | None = None, g: float = GRAVITY) -> np.ndarray:
    """Height above the surface at every frame, for an object that hops between contacts.

    `flights` are (take-off frame, landing frame) pairs: a parabola under gravity that leaves and
    reaches the surface exactly on those frames. `drop` = (release frame, landing frame) starts the
    clip held still at the height that makes the fall land on time. Elsewhere the object rests (0).
    Heights can be evaluated at fractional frames with `flight_height_at`.
    """
    return np.array([flight_height_at(k, fps, flights, drop=drop, g=g) for k in range(n_frames)])


def flight_height_at(t: float, fps: float, flights: list[tuple[int, int]], *,
                     drop: tuple[int, int] | None = None, g: float = GRAVITY) -> float:
    if drop is not None:
        release, land = drop
        if t <= land:
            fall = (land - release) / fps
            since = max(0.0, t - release) / fps
            return 0.5 * g * (fall * fall - since * since)
    for start, end in flights:
        if start <= t <= end:
            tau, span = (t - start) / fps, (end - start) / fps
            return 0.5 * g * tau * (span - tau)
    return 0.0


def bounce_flights(rng: np.random.Generator, first_land: int, first_span: int, n_frames: int, *,
                   restitution: tuple[float, float] = (0.55, 0.8), min_span: int = 4) -> list[tuple[int, int]]:
    """Flights of a bouncing object after it lands on `first_land`: each shorter by the restitution."""
    flights: list[tuple[int, int]] = []
    t, span = first_land, first_span
    while span >= min_span and t + span < n_frames - 1:
        flights.append((t, t + span))
        t += span
        span = int(round(span * float(rng.uniform(*restitution))))
    return flights


def approach_profile(u: np.ndarray | float, power: float = 3.0) -> np.ndarray | float:
    """0 at u = 0 and u = 1, positive between: a slow wind-up that peaks late and a fast closing
    (non-zero speed at contact, as a swing or a slammed lid has). Normalised to a peak of 1."""
    u = np.clip(u, 0.0, 1.0)
    peak_u = power / (power + 1.0)
    peak = (1.0 - peak_u) * peak_u ** power
    return (1.0 - u) * u ** power / peak


def closing_gap(t: float, contacts: list[int], *, rest: float, wind_up: float, settle: float) -> float:
    """Gap at (fractional) frame `t` of motion that closes on each of `contacts` in turn.

    Held open at `rest` until a wind-up of `wind_up` frames closes it fast onto the first contact;
    between two contacts it opens and closes again (`approach_profile`, higher for longer gaps);
    after the last contact it eases back open to `rest` over `settle` frames.
    """
    if not contacts:
        return rest
    if t <= contacts[0]:
        u = float(np.clip((t - (contacts[0] - wind_up)) / wind_up, 0.0, 1.0))
        return rest * (1.0 - u ** 3)
    for a, b in zip(contacts, contacts[1:]):
        if a <= t <= b:
            return rest * min(1.0, (b - a) / wind_up) * float(approach_profile((t - a) / (b - a)))
    return rest * float(smoothstep((t - contacts[-1]) / settle))


def smoothstep(u: np.ndarray | float) -> np.ndarray | float:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)
