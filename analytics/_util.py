"""Shared input checks for membership data (internal)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["membership_arrays", "pairs_to_arrays", "compact_ids", "sorted_unique"]


def membership_arrays(stakeholder_ids, group_ids) -> tuple[np.ndarray, np.ndarray]:
    """Validate two parallel id sequences and return them as int64 arrays.

    Raises ``ValueError`` unless both are 1-D, of equal length and hold integers.
    Duplicate pairs are allowed here; each consumer decides how to collapse them.
    """
    s = _int_array(stakeholder_ids, "stakeholder_ids")
    g = _int_array(group_ids, "group_ids")
    if s.shape != g.shape:
        raise ValueError(
            f"stakeholder_ids and group_ids must have equal length, got {s.size} and {g.size}"
        )
    return s, g


def pairs_to_arrays(memberships: Iterable[tuple[int, int]] | None) -> tuple[np.ndarray, np.ndarray]:
    """Turn ``(stakeholder_id, group_id)`` pairs into two int64 arrays."""
    if memberships is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if isinstance(memberships, np.ndarray):
        arr = memberships
    else:
        rows = list(memberships)
        for r in rows:
            if len(r) != 2:
                raise ValueError(f"a membership must be a (stakeholder_id, group_id) pair, got {r!r}")
        arr = np.asarray(rows) if rows else np.zeros((0, 2), np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("memberships must be (stakeholder_id, group_id) pairs")
    return membership_arrays(arr[:, 0], arr[:, 1])


def _int_array(values, what: str) -> np.ndarray:
    a = np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {a.shape}")
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{what} must hold integer ids, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def compact_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map ids to dense codes ``0..n-1``; return ``(codes, keys)`` with ``keys[codes] == ids``.

    Uses a lookup table instead of a sort when the ids are small non-negative ints
    (database keys usually are): O(n + max_id) instead of O(n log n).
    """
    if ids.size == 0:
        return ids.astype(np.int64), ids.astype(np.int64)
    lo, hi = int(ids.min()), int(ids.max())
    if lo >= 0 and hi < 4 * ids.size + 1024:
        present = np.zeros(hi + 1, dtype=bool)
        present[ids] = True
        keys = np.flatnonzero(present)
        table = np.cumsum(present, dtype=np.int64) - 1
        return table[ids], keys
    keys, codes = np.unique(ids, return_inverse=True)
    return codes.astype(np.int64, copy=False), keys.astype(np.int64, copy=False)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by one sort: numpy 2.4's hashing ``unique`` takes 2.8 s on the
    3,000,000 membership keys of the xlarge demo, a sort and a comparison 0.2 s."""
    out = np.sort(values, axis=None)
    if out.size:
        out = out[np.concatenate(([True], out[1:] != out[:-1]))]
    return out
