"""Hypothesis strategies for fuzzing the file readers: JSON values a damaged or hostile file may hold,
and near-valid documents (a good one with a few values replaced or keys removed)."""
from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# -- values: what a damaged or hostile file may hold where a number, a text or a list should be -------
hostile_numbers = st.one_of(
    st.integers(-2**70, 2**70), st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, 48_000 * 10**12]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e6, -1e6, 1e308, 5e-324, 0.5]))
hostile_texts = st.one_of(st.text(max_size=20), st.sampled_from(["", "..", "a\x00b", "/", "x" * 5000, "NaN"]))
scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_texts)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON tree (dict keys and list indices)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, prefix + (i,))
    return found


def _set(tree: Any, path: tuple, value: Any) -> None:
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@st.composite
def mutated(draw, base: dict, n_max: int = 3) -> dict:
    """`base` with up to `n_max` values (anywhere in it) replaced by hostile ones, or keys removed."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, n_max))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if draw(st.integers(0, 5)) == 0 and isinstance(_parent(doc, path), dict):
            del _parent(doc, path)[path[-1]]
        else:
            _set(doc, path, draw(json_values))
    return doc


def _parent(tree: Any, path: tuple) -> Any:
    node = tree
    for key in path[:-1]:
        node = node[key]
    return node


def dump_json(document: Any) -> str:
    """JSON text that may hold NaN and Infinity, as a damaged file may."""
    return json.dumps(document, allow_nan=True)


# The default suite runs 150 examples of each; the slow long runs 3,000.
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_LONG = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
