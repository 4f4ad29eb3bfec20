"""Group overlap: the membership graph projected onto groups.

Two groups overlap when they share members. The projection is computed as the sparse
product ``B.T @ B`` of the stakeholder × group incidence matrix ``B``: entry ``(a, b)``
is the number of shared members, the diagonal the group sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from ._util import compact_ids, membership_arrays, sorted_unique

__all__ = ["OverlapPair", "OverlapResult", "overlap", "incidence_matrix"]


@dataclass(frozen=True)
class OverlapPair:
    """Two groups that share members."""

    group_a: int
    group_b: int
    shared: int
    jaccard: float

    def to_dict(self) -> dict[str, Any]:
        return {"group_a": self.group_a, "group_b": self.group_b,
                "shared": self.shared, "jaccard": self.jaccard}


@dataclass(frozen=True, eq=False)
class OverlapResult:
    """Every pair of groups with at least ``min_shared`` shared members.

    Arrays are parallel and read-only, sorted by ``shared`` descending, then
    ``group_a``, then ``group_b`` (``group_a < group_b``). ``group_ids`` and
    ``group_sizes`` list every group with at least one member and its member count.
    ``pairs`` and ``to_dict()`` build Python objects on demand, so a caller that only
    needs the top rows or the arrays pays nothing for the rest.
    """

    group_a: np.ndarray
    group_b: np.ndarray
    shared: np.ndarray
    jaccard: np.ndarray
    group_ids: np.ndarray
    group_sizes: np.ndarray

    def __len__(self) -> int:
        return int(self.group_a.size)

    @cached_property
    def pairs(self) -> tuple[OverlapPair, ...]:
        """All pairs as :class:`OverlapPair` objects (built once, on first use)."""
        return tuple(self._pairs(None))

    def _pairs(self, limit: int | None) -> list[OverlapPair]:
        sl = slice(None, limit)
        return [OverlapPair(a, b, s, j) for a, b, s, j in zip(
            self.group_a[sl].tolist(), self.group_b[sl].tolist(),
            self.shared[sl].tolist(), self.jaccard[sl].tolist(), strict=True)]

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        """JSON-able summary: ``pair_count`` and the first ``limit`` pairs (all by default)."""
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        return {"pair_count": len(self), "pairs": [p.to_dict() for p in self._pairs(limit)]}

    def to_graph(self) -> nx.Graph:
        """The overlap graph: group-id nodes (attribute ``members``), edges with
        ``weight`` (= shared members) and ``jaccard``. Groups without overlaps are
        isolated nodes."""
        g = nx.Graph()
        g.add_nodes_from((gid, {"members": n}) for gid, n in zip(
            self.group_ids.tolist(), self.group_sizes.tolist(), strict=True))
        g.add_edges_from((a, b, {"weight": s, "jaccard": j}) for a, b, s, j in zip(
            self.group_a.tolist(), self.group_b.tolist(),
            self.shared.tolist(), self.jaccard.tolist(), strict=True))
        return g


def incidence_matrix(stakeholder_ids, group_ids):
    """Group × stakeholder incidence matrix (CSR, int32 ones) of distinct memberships.

    Parameters
    ----------
    stakeholder_ids, group_ids : sequence or 1-D array of int
        One row per membership; duplicate pairs count once.

    Returns
    -------
    (Bt, group_keys, stakeholder_keys, sizes)
        ``Bt`` is ``B.T`` (groups × stakeholders); ``group_keys[i]`` is the id of row
        ``i``, ``stakeholder_keys[j]`` the id of column ``j``; ``sizes[i]`` the number of
        distinct members of group ``group_keys[i]``.

    Notes
    -----
    Duplicates are removed with one sort of the pair keys; :func:`overlap` avoids even
    that on its hot path (see there).
    """
    s, g = membership_arrays(stakeholder_ids, group_ids)
    gcode, gkeys = compact_ids(g)
    scode, skeys = compact_ids(s)
    ng = gkeys.size
    key = sorted_unique(scode * ng + gcode)  # collapse duplicate pairs
    bt = _build(key % ng, key // ng, ng, skeys.size)
    return bt, gkeys, skeys, np.diff(bt.indptr)


def _build(gcode: np.ndarray, scode: np.ndarray, ng: int, ns: int) -> sp.csr_matrix:
    # Stable counting sort by group: numpy radix-sorts 16-bit keys.
    key = gcode.astype(np.uint16) if ng <= 65536 else gcode
    order = np.argsort(key, kind="stable")
    indptr = np.zeros(ng + 1, dtype=np.int64)
    np.cumsum(np.bincount(gcode, minlength=ng), out=indptr[1:])
    idx_dtype = np.int32 if max(ns, gcode.size) < 2**31 else np.int64
    return sp.csr_matrix(
        (np.ones(gcode.size, np.int32), scode[order].astype(idx_dtype), indptr.astype(idx_dtype)),
        shape=(ng, ns),
    )


def overlap(stakeholder_ids, group_ids, *, min_shared: int = 1) -> OverlapResult:
    """Pairs of groups that share members, with shared count and Jaccard index.

    Parameters
    ----------
    stakeholder_ids, group_ids : sequence or 1-D numpy array of int
        Parallel arrays, one row per membership (stakeholder ``stakeholder_ids[i]`` is
        a member of group ``group_ids[i]``). Duplicate pairs count once.
    min_shared : int, optional
        Keep only pairs sharing at least this many members (default 1: every pair
        that overlaps at all).

    Returns
    -------
    OverlapResult
        Pairs with ``group_a < group_b``, ``shared`` = number of common members,
        ``jaccard = shared / (|A| + |B| - shared)``; sorted by shared desc, then ids.

    Notes
    -----
    With ``B`` the stakeholder × group incidence matrix, ``C = B.T @ B`` holds the
    shared counts; the strict upper triangle of ``C`` gives each pair once and the
    diagonal the group sizes. Everything stays in numpy: the cost is the sparse
    product plus O(nnz) work (radix sorts on 16-bit keys), so the call runs within
    about 2x of the bare product at 5,000 groups / 300,000 memberships.

    Examples
    --------
    >>> r = overlap([1, 2, 2, 3], [10, 10, 20, 20])
    >>> [(p.group_a, p.group_b, p.shared, round(p.jaccard, 3)) for p in r.pairs]
    [(10, 20, 1, 0.333)]
    """
    if not isinstance(min_shared, int) or min_shared < 1:
        raise ValueError(f"min_shared must be an int >= 1, got {min_shared!r}")
    s, g = membership_arrays(stakeholder_ids, group_ids)
    gcode, gkeys = compact_ids(g)
    # Stakeholder ids are never mapped back here, so small non-negative ids serve as
    # column numbers directly (empty columns cost nothing in the product).
    if s.size and s.min() >= 0 and s.max() < 4 * s.size + 1024:
        scode, ns = s, int(s.max()) + 1
    else:
        scode, skeys = compact_ids(s)
        ns = skeys.size
    ng = gkeys.size
    bt = _build(gcode, scode, ng, ns)
    counts = np.diff(bt.indptr)
    c = bt @ bt.T
    # Duplicate memberships would inflate counts. Each entry contributes 1 to its
    # row's count but m**2 to the diagonal when repeated m times, so equality of the
    # diagonal with the row counts proves there are none, at O(groups) cost.
    if ng and not np.array_equal(c.diagonal(), counts):
        key = sorted_unique(scode * ng + gcode)
        bt = _build(key % ng, key // ng, ng, ns)
        counts = np.diff(bt.indptr)
        c = bt @ bt.T

    # 16-bit codes when they fit: the radix sorts below need them anyway.
    code_t = np.uint16 if ng <= 65536 else c.indices.dtype
    rows = np.repeat(np.arange(ng, dtype=code_t), np.diff(c.indptr))
    keep = c.indices > rows
    if min_shared > 1:
        keep &= c.data >= min_shared
    a, b, sh = rows[keep], c.indices[keep].astype(code_t), c.data[keep]

    order = _order(a, b, sh, ng)
    a, b, sh = a[order], b[order], sh[order]
    jac = sh / (counts[a] + counts[b] - sh)
    out = [gkeys[a], gkeys[b], sh.astype(np.int64), jac, gkeys, counts.astype(np.int64)]
    for arr in out:
        arr.flags.writeable = False
    return OverlapResult(*out)


def _order(a: np.ndarray, b: np.ndarray, sh: np.ndarray, ng: int) -> np.ndarray:
    """Permutation sorting by shared desc, then a, then b (LSD radix when possible)."""
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    top = int(sh.max())
    if ng > 65536 or top >= 65536:
        return np.lexsort((b, a, -sh.astype(np.int64)))
    # Least-significant key first; each pass is a stable 16-bit radix sort.
    o = np.argsort(b, kind="stable")  # a and b are uint16 here
    o = o[np.argsort(a[o], kind="stable")]
    return o[np.argsort((top - sh[o]).astype(np.uint16), kind="stable")]
