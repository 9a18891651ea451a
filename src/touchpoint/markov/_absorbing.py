"""The absorbing-chain algebra of the journey chain, in one place.

A :class:`~touchpoint.MarkovModel`'s transition matrix orders its states
``(start)``, the transient states, ``(conversion)``, ``(null)``. Its transient
block ``Q`` (start included, at index 0) and one-step absorption vectors ``r``
answer everything: conversion probabilities and expected steps solve
``(I - Q) x = b`` (Kemeny and Snell 1960, theorem 3.3.7), stationary visits the
transposed system, removal effects the same system with states redirected to
``(null)``, and "conversion within n steps" propagates the start distribution
through ``Q``.

Chains up to :data:`DENSE_LIMIT` transient states are solved exactly with a
sparse LU (removal effects with the dense fundamental matrix); larger ones,
whose LU fills in badly (higher-order chains are expanders), with the certified
Neumann series of :func:`solve_absorbing` and a forward propagation whose
remaining mass bounds the error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DENSE_LIMIT",
    "DENSE_REMOVAL_LIMIT",
    "FILL_LIMIT",
    "clip_probability",
    "factorize",
    "propagate",
    "removal_probabilities",
    "solve",
    "solve_absorbing",
    "solve_without",
    "transient_blocks",
]

#: Transient states up to which chains are solved by (sparse or dense) factorisation.
DENSE_LIMIT = 2500


def transient_blocks(
    p: Any, n_transient: int
) -> tuple[Any, NDArray[np.float64], NDArray[np.float64]]:
    """``(Q, r_conversion, r_null)`` of a transition matrix (``Q`` as CSC, start at 0)."""
    m = n_transient + 1
    q = p[:m, :m].tocsc()
    return (
        q,
        np.asarray(p[:m, m].todense()).ravel(),
        np.asarray(p[:m, m + 1].todense()).ravel(),
    )


def factorize(q: Any) -> Any:
    """Sparse LU factorisation of ``I - Q``."""
    from scipy import sparse
    from scipy.sparse.linalg import splu

    a = sparse.identity(q.shape[0], format="csc") - sparse.csc_matrix(q)
    return splu(sparse.csc_matrix(a))


def solve(
    q: Any,
    b: NDArray[np.float64],
    *,
    transpose: bool = False,
    factor: Callable[[], Any] | None = None,
) -> NDArray[np.float64]:
    """Solve ``(I - Q) x = b`` (or the transposed system): LU when small, Neumann when large.

    ``factor`` returns a (cached) :func:`factorize` of ``q``; without it one is made.
    """
    if q.shape[0] <= DENSE_LIMIT:
        lu = factor() if factor is not None else factorize(q)
        return np.asarray(
            lu.solve(np.asarray(b, dtype=np.float64), trans="T" if transpose else "N")
        )
    return solve_absorbing(q, b, transpose=transpose)


def solve_absorbing(
    q: Any, b: NDArray[np.float64], *, transpose: bool = False, tol: float = 1e-13
) -> NDArray[np.float64]:
    """Solve ``(I - Q) x = b`` for a substochastic ``Q`` whose chain is absorbed surely.

    Sums the Neumann series ``x = sum_n Q^n b`` while tracking ``u = Q^n 1``,
    the probability of still being transient after ``n`` steps; since
    ``sum_{j>n} Q^j b <= Q^{n+1} x``, the error is at most ``max(u) * max|x|``
    and the loop stops when ``max(u) < tol``. Used for large higher-order
    chains, whose sparse LU fills in badly (their graphs are expanders); a
    sparse LU is the fallback if 20,000 steps are not enough.
    """
    from scipy import sparse

    op = sparse.csr_matrix(q.T if transpose else q)
    term: NDArray[np.float64] = np.array(b, dtype=np.float64)
    x = term.copy()
    u: NDArray[np.float64] = np.ones(op.shape[0])
    for _ in range(20_000):
        term = np.asarray(op @ term, dtype=np.float64)
        x += term
        u = np.asarray(op @ u, dtype=np.float64)
        if u.max() < tol:
            return x
    return np.asarray(factorize(op).solve(np.asarray(b, dtype=np.float64)))


def solve_without(q: Any, r: NDArray[np.float64], removed: NDArray[np.bool_]) -> float:
    """P(conversion) from start when the ``removed`` transient states lead to ``(null)``."""
    keep = np.flatnonzero(~removed)
    return clip_probability(float(solve(q[keep][:, keep], r[keep])[0]))


def propagate(
    q: Any,
    r: NDArray[np.float64],
    masks: Sequence[NDArray[np.bool_]],
    *,
    start: int = 0,
    tol: float = 1e-13,
    steps: int | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """P(conversion) for several removals at once, by propagating the start distribution.

    Column ``i`` of ``v`` is the distribution over transient states after
    ``n`` steps from ``start`` with removal ``i`` applied (mass entering
    removed states is dropped to null); conversions accumulate ``v' r``. The
    mass still transient bounds the remaining error, so the loop stops when
    every column's mass is at most ``tol``: exact up to that certified bound.
    Returns which columns converged within 10,000 steps, and the values. With
    ``steps`` it runs at most that many transitions (conversion *within*
    ``steps``; every column counts as done).
    """
    m = q.shape[0]
    qt = q.T.tocsr()
    kill = np.stack(list(masks), axis=1)
    v = np.zeros((m, len(masks)))
    v[start, :] = 1.0
    conv = np.zeros(len(masks))
    alive = np.ones(len(masks), dtype=bool)
    for _ in range(10_000 if steps is None else steps):
        conv += r @ v
        v = qt @ v
        v[kill] = 0.0
        alive = v.sum(axis=0) > tol
        if not alive.any():
            break
    conv = np.clip(conv, 0.0, 1.0)
    if steps is not None:
        return np.ones(len(masks), dtype=bool), conv
    return ~alive, conv


#: Transient states up to which removal effects use the dense fundamental matrix (0.5 GB).
DENSE_REMOVAL_LIMIT = 8000
#: Nonzeros of a sparse LU of ``I - Q`` up to which larger chains reuse it (about 0.5 GB).
FILL_LIMIT = 40_000_000
#: Right-hand sides solved at once against the LU.
_BLOCK = 256


def removal_probabilities(
    q: Any, r: NDArray[np.float64], masks: list[NDArray[np.bool_]]
) -> tuple[float, NDArray[np.float64]]:
    """P(conversion from start) and, per mask of removed transient states, the same with them removed.

    With ``N = (I - Q)^-1`` and ``x = N r``, removing a set ``S`` (every
    transition into it sent to ``(null)``) gives ``x_0 - N[0, S] N[S, S]^-1
    x[S]`` (Woodbury; for one state the Sherman-Morrison ``x_0 - N[0, s] x_s /
    N[s, s]``): one factorisation serves every removal. The route is the
    cheaper of (see :func:`_removal_route`): a dense inverse of ``I - Q``
    (LAPACK, chains up to :data:`DENSE_REMOVAL_LIMIT` states; the LU of a
    journey chain fills in to nearly dense, so many removals are fastest
    this way), propagating all removals at once (:func:`propagate`, cheap
    when few sets are removed from a large sparse chain, e.g. the symbols of
    a higher-order model), or, for chains too large for both, one sparse LU
    whose fill stays under :data:`FILL_LIMIT` (``N[0, :]`` from one
    transposed solve, the columns ``N[:, S]`` in blocks). Probabilities are
    clipped into [0, 1].
    """
    from scipy import sparse

    m = q.shape[0]
    q = sparse.csc_matrix(q)
    route = _removal_route(m, q.nnz, len(masks))
    if route == "dense":
        n_mat = np.linalg.inv(np.eye(m) - q.toarray())
        x = n_mat @ r
        return _woodbury(x, n_mat[0], lambda s: n_mat[np.ix_(s, s)], masks)
    lu = _bounded_factor(q) if route == "sparse" else None
    if lu is None:
        return _removal_by_propagation(q, r, masks)
    x = np.asarray(lu.solve(np.asarray(r, dtype=np.float64)))
    e0 = np.zeros(m)
    e0[0] = 1.0
    row0 = np.asarray(lu.solve(e0, trans="T"))  # N[0, :]
    return _woodbury(x, row0, lambda s: _columns(lu, s, m)[s], masks)


def _removal_route(m: int, nnz: int, n_masks: int) -> str:
    """The cheaper exact route: ``"dense"``, ``"propagate"`` or ``"sparse"`` (LU).

    A dense inverse costs about ``m^3`` flops; propagating every removal
    about ``nnz(Q) * removals * steps`` (some 70 steps to 1e-13 for journeys
    of mean length 3), at roughly 7 times the cost per flop (sparse products).
    Chains too large for the dense inverse with many removals try one sparse LU.
    """
    propagate_cost = 500.0 * nnz * n_masks
    if m <= DENSE_REMOVAL_LIMIT and float(m) ** 3 <= propagate_cost:
        return "dense"
    if m > DENSE_REMOVAL_LIMIT and propagate_cost > 1e13:
        return "sparse"
    return "propagate"


def _woodbury(
    x: NDArray[np.float64],
    row0: NDArray[np.float64],
    block: Callable[[NDArray[np.intp]], NDArray[np.float64]],
    masks: list[NDArray[np.bool_]],
) -> tuple[float, NDArray[np.float64]]:
    """``x_0 - N[0, S] N[S, S]^-1 x[S]`` per mask; ``block(S)`` gives ``N[S, S]``."""
    out = np.full(len(masks), x[0])
    sets = [np.flatnonzero(mask) for mask in masks]
    single = np.array([i for i, s in enumerate(sets) if s.size == 1], dtype=np.intp)
    if single.size:  # Sherman-Morrison: the diagonal of N, in blocks
        st = np.array([sets[i][0] for i in single], dtype=np.intp)
        n_diag = np.empty(st.size)
        for lo in range(0, st.size, _BLOCK):
            idx = st[lo : lo + _BLOCK]
            n_diag[lo : lo + idx.size] = np.diagonal(block(idx))
        out[single] = x[0] - row0[st] * x[st] / n_diag
    for i, s in enumerate(sets):
        if s.size > 1:
            out[i] = x[0] - row0[s] @ np.linalg.solve(block(s), x[s])
    return clip_probability(float(x[0])), np.clip(out, 0.0, 1.0)


def clip_probability(p: float) -> float:
    """A solved probability clipped into [0, 1] (rounding leaves it 1e-12 outside)."""
    return min(max(p, 0.0), 1.0)


def _bounded_factor(q: Any) -> Any:
    """Sparse LU of ``I - Q``, or None when its fill passes :data:`FILL_LIMIT`."""
    if q.nnz * 50 > FILL_LIMIT:
        return None  # a journey chain this dense fills in past the bound; do not try
    lu = factorize(q)
    if lu.L.nnz + lu.U.nnz > FILL_LIMIT:
        return None
    return lu


def _columns(lu: Any, s: NDArray[np.intp], m: int) -> NDArray[np.float64]:
    """Columns ``N[:, s]`` of the inverse, solved in blocks against the factors."""
    out = np.empty((m, s.size))
    for lo in range(0, s.size, _BLOCK):
        idx = s[lo : lo + _BLOCK]
        rhs = np.zeros((m, idx.size))
        rhs[idx, np.arange(idx.size)] = 1.0
        out[:, lo : lo + idx.size] = lu.solve(rhs)
    return out


def _removal_by_propagation(
    q: Any, r: NDArray[np.float64], masks: list[NDArray[np.bool_]]
) -> tuple[float, NDArray[np.float64]]:
    """All removals propagated together; the few that do not converge solved one by one."""
    m = q.shape[0]
    out = np.empty(len(masks))
    base = float(solve_absorbing(q, r)[0])
    done = np.zeros(len(masks), dtype=bool)
    block = max(1, int(2e7 // m))  # keep the dense block under ~160 MB
    for lo in range(0, len(masks), block):
        d, values = propagate(q, r, masks[lo : lo + block])
        done[lo : lo + block] = d
        out[lo : lo + block] = np.where(d, values, np.nan)
    for i in np.flatnonzero(~done).tolist():
        out[i] = solve_without(q, r, masks[i])
    return clip_probability(base), np.clip(out, 0.0, 1.0)
