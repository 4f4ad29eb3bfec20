"""numpy helpers for drawing linked records in bulk: CSR groupings and picks from them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BATCH = 20_000  # rows per executemany


def csr(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group `values` by integer `keys` in [0, n): (starts of length n+1, values sorted by key)."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return starts, values[order]


def pick_from_csr(rng, starts, values, rows) -> tuple[np.ndarray, np.ndarray]:
    """One uniform pick from each listed row of a CSR; (values, has_any) (value -1 if empty)."""
    lo = starts[rows]
    n = starts[rows + 1] - lo
    has = n > 0
    idx = lo + np.floor(rng.random(len(rows)) * np.maximum(n, 1)).astype(np.int64)
    out = np.full(len(rows), -1, dtype=np.int64)
    out[has] = values[idx[has]]
    return out, has


def weighted_pick_from_csr(rng, starts, values, cumw, rows) -> np.ndarray:
    """Weighted pick per row; `cumw` is the running sum of weights in CSR order."""
    lo, hi = starts[rows], starts[rows + 1]
    base = np.where(lo > 0, cumw[np.maximum(lo - 1, 0)], 0.0)
    top = np.where(hi > 0, cumw[np.maximum(hi - 1, 0)], 0.0)
    target = base + rng.random(len(rows)) * (top - base)
    idx = np.searchsorted(cumw, target, side="right")
    idx = np.clip(idx, lo, np.maximum(hi - 1, lo))
    out = np.where(hi > lo, values[np.minimum(idx, len(values) - 1)], -1)
    return out


def choice(rng, options, probs, n):
    """`n` indexes into `options`, drawn with the (unnormalised) weights `probs`."""
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def chunks(n: int, size: int = BATCH) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, size):
        yield lo, min(n, lo + size)
