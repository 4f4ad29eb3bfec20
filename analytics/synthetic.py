"""Synthetic membership data for performance checks and randomised tests."""

from __future__ import annotations

import numpy as np

__all__ = ["synthetic_memberships"]


def synthetic_memberships(
    n_groups: int, n_stakeholders: int, n_memberships: int, seed: int = 0, *, exponent: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Random stakeholder–group memberships with Zipf-like group sizes.

    Parameters
    ----------
    n_groups, n_stakeholders : int
        Ids are ``1..n_groups`` and ``1..n_stakeholders``.
    n_memberships : int
        Number of membership draws, >= n_stakeholders (everyone belongs to a group).
    seed : int
        Seed for :func:`numpy.random.default_rng`; the same seed gives the same data.
    exponent : float, optional
        Zipf exponent: group of rank r is drawn with weight ``r ** -exponent``.

    Returns
    -------
    (stakeholder_ids, group_ids) : tuple of int64 numpy arrays
        Distinct pairs in random order; duplicates drawn at random are dropped, so
        there may be slightly fewer than ``n_memberships`` pairs.

    Notes
    -----
    Every stakeholder gets one membership; the remaining draws pick stakeholders
    uniformly, so memberships per stakeholder are ``1 + Poisson``-like (about 3 on
    average at 100,000 stakeholders and 300,000 memberships). Group ranks are shuffled
    so big groups do not all have small ids.

    Examples
    --------
    >>> s, g = synthetic_memberships(10, 50, 120, seed=1)
    >>> bool(s.shape == g.shape and s.min() >= 1 and g.max() <= 10)
    True
    """
    for name, v in (("n_groups", n_groups), ("n_stakeholders", n_stakeholders)):
        if not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if not isinstance(n_memberships, int) or n_memberships < n_stakeholders:
        raise ValueError("n_memberships must be an int >= n_stakeholders")
    rng = np.random.default_rng(seed)
    weights = np.arange(1, n_groups + 1, dtype=np.float64) ** -float(exponent)
    weights /= weights.sum()
    rank_to_group = rng.permutation(n_groups)
    extra = n_memberships - n_stakeholders
    s = np.concatenate([np.arange(n_stakeholders), rng.integers(0, n_stakeholders, extra)])
    g = rank_to_group[rng.choice(n_groups, size=n_memberships, p=weights)]
    key = np.unique(s.astype(np.int64) * n_groups + g)
    key = key[rng.permutation(key.size)]
    return key // n_groups + 1, key % n_groups + 1


def perf_check(n_groups: int = 5000, n_stakeholders: int = 100_000, n_memberships: int = 300_000,
               seed: int = 0, repeat: int = 7) -> dict[str, float]:
    """Time :func:`analytics.overlap` against the bare ``B.T @ B`` and time
    :func:`analytics.brokers`, with peak traced memory (tracemalloc, numpy included).

    Run as ``python -m analytics.synthetic`` (a harmless runpy warning appears because
    the package re-exports this module). Returns seconds (best of ``repeat``) and MiB.
    """
    import time
    import tracemalloc

    import scipy.sparse as sp

    from .brokers import brokers
    from .overlap import overlap

    s, g = synthetic_memberships(n_groups, n_stakeholders, n_memberships, seed)
    b = sp.csr_matrix((np.ones(s.size, np.int32), (s, g)))

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    def peak(fn) -> float:
        tracemalloc.start()
        fn()
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top / 2**20

    bare = best(lambda: b.T @ b)
    ov = best(lambda: overlap(s, g))
    br = best(lambda: brokers(s, g)) if repeat else 0.0
    return {
        "memberships": float(s.size),
        "bare_product_s": bare,
        "overlap_s": ov,
        "overlap_ratio": ov / bare,
        "overlap_peak_mib": peak(lambda: overlap(s, g)),
        "brokers_s": br,
        "brokers_peak_mib": peak(lambda: brokers(s, g)),
    }


if __name__ == "__main__":
    for key, value in perf_check().items():
        print(f"{key:>18}: {value:.4f}")
