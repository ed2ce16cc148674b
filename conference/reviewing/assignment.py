"""The paper–reviewer assignment, solved exactly as a min-cost flow (OR-Tools), with plain inputs and
outputs and no Django import.

Network: source → paper (capacity: reviews still needed) → reviewer (capacity 1 per eligible pair,
cost −affinity scaled to an integer) → sink (capacity: the reviewer's remaining load). A maximum flow
of minimum cost is an assignment that gives as many reviews as possible and, among those, the largest
total affinity; because the constraint matrix is totally unimodular it is optimal among fractional
assignments too (the benchmark checks this against HiGHS' LP on the same instance).

Pairs already committed (`fixed`) are kept: they use up the paper's demand and the reviewer's load
before the flow is solved. When no full assignment exists the result says exactly which papers lack
reviewers and why: a paper with too few eligible reviewers on its own (conflicts, exhausted loads, no
candidate), or a group of papers that compete for the same few reviewers (a violated Hall condition,
read off the minimum cut of the flow network).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

#: Affinities are multiplied by this and rounded: the solver works on integers.
DEFAULT_SCALE = 10_000


@dataclass(frozen=True)
class PaperShortfall:
    """A paper that the best assignment leaves with fewer than k reviewers, and why."""

    paper: Hashable
    needed: int
    assigned: int
    eligible: int
    conflicted: int
    load_exhausted: int
    reason: str


@dataclass(frozen=True)
class CompetingGroup:
    """Papers that together need more reviews than their eligible reviewers can still give."""

    papers: list
    reviewers: list
    reviews_needed: int
    capacity_left: int

    @property
    def missing(self) -> int:
        return self.reviews_needed - self.capacity_left


@dataclass
class AssignmentResult:
    pairs: list[tuple]  # (paper, reviewer), fixed pairs included
    new_pairs: list[tuple]  # pairs chosen by the solver (not fixed)
    total_affinity: float  # sum of the (unscaled) affinities of every pair, fixed ones included
    total_scaled: int  # the objective the solver maximised, in integer units (new pairs only)
    feasible: bool
    shortfalls: list[PaperShortfall] = field(default_factory=list)
    groups: list[CompetingGroup] = field(default_factory=list)
    loads: dict = field(default_factory=dict)  # reviewer -> number of papers (fixed included)

    def diagnosis(self) -> list[str]:
        """Human-readable lines for the chair, empty when every paper has its k reviewers."""
        lines = [f"Paper {s.paper}: {s.reason}" for s in self.shortfalls]
        for group in self.groups:
            lines.append(
                f"Papers {', '.join(map(str, group.papers))} compete for the same "
                f"{len(group.reviewers)} eligible reviewer(s): they need {group.reviews_needed} more "
                f"review(s) but those reviewers have only {group.capacity_left} slot(s) left "
                f"({group.missing} missing). Raise those reviewers' loads, add reviewers, or lower k."
            )
        return lines


def solve_flow(
    *,
    demand: np.ndarray,
    capacity: np.ndarray,
    edge_paper: np.ndarray,
    edge_reviewer: np.ndarray,
    edge_cost: np.ndarray,
) -> tuple[np.ndarray, int, int]:
    """Low-level solve on index arrays. `edge_cost` are integers (lower is better).

    Returns (chosen: bool mask over the edges, flow value, total cost of the chosen edges).
    """
    n_papers, n_reviewers = len(demand), len(capacity)
    source, sink = n_papers + n_reviewers, n_papers + n_reviewers + 1
    smcf = min_cost_flow.SimpleMinCostFlow()
    paper_nodes = np.arange(n_papers, dtype=np.int32)
    reviewer_nodes = np.arange(n_reviewers, dtype=np.int32) + n_papers
    tails = np.concatenate(
        [
            np.full(n_papers, source, dtype=np.int32),
            edge_paper.astype(np.int32),
            reviewer_nodes,
        ]
    )
    heads = np.concatenate(
        [
            paper_nodes,
            edge_reviewer.astype(np.int32) + n_papers,
            np.full(n_reviewers, sink, dtype=np.int32),
        ]
    )
    caps = np.concatenate(
        [
            demand.astype(np.int64),
            np.ones(len(edge_paper), dtype=np.int64),
            capacity.astype(np.int64),
        ]
    )
    costs = np.concatenate(
        [
            np.zeros(n_papers, dtype=np.int64),
            edge_cost.astype(np.int64),
            np.zeros(n_reviewers, dtype=np.int64),
        ]
    )
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    total = int(demand.sum())
    supplies = np.zeros(n_papers + n_reviewers + 2, dtype=np.int64)
    supplies[source], supplies[sink] = total, -total
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow solver returned status {status}")
    first = n_papers
    flows = smcf.flows(np.arange(first, first + len(edge_paper), dtype=np.int32))
    chosen = flows > 0
    return chosen, int(smcf.maximum_flow()), int(edge_cost[chosen].sum())


def _index(ids: Sequence, what: str) -> dict:
    index = {item: i for i, item in enumerate(ids)}
    if len(index) != len(ids):
        raise ValueError(f"{what} ids must be unique.")
    return index


def _pair_mask(pairs, p_index: dict, r_index: dict) -> np.ndarray:
    """A papers × reviewers boolean mask from (paper, reviewer) pairs, or the mask itself if given."""
    shape = (len(p_index), len(r_index))
    if isinstance(pairs, np.ndarray):
        if pairs.shape != shape or pairs.dtype != bool:
            raise ValueError(f"a pair mask must be a boolean array of shape {shape}.")
        return pairs.copy()
    mask = np.zeros(shape, dtype=bool)
    for p, r in pairs:
        if p in p_index and r in r_index:
            mask[p_index[p], r_index[r]] = True
    return mask


def assignment_solve(
    *,
    papers: Sequence[Hashable],
    reviewers: Sequence[Hashable],
    k: int | Mapping[Hashable, int] = 3,
    loads: int | Mapping[Hashable, int] = 6,
    affinity: np.ndarray | Mapping[tuple, float] | None = None,
    forbidden: Iterable[tuple] = (),
    fixed: Iterable[tuple] = (),
    candidates: Iterable[tuple] | None = None,
    scale: int = DEFAULT_SCALE,
) -> AssignmentResult:
    """The best assignment of `k` reviewers per paper, no reviewer above their load.

    affinity: a dense array (papers × reviewers, in the given orders) or a dict {(paper, reviewer):
    value}; pairs missing from the dict have affinity 0. forbidden: pairs never assigned (conflicts).
    forbidden and candidates may also be boolean masks (papers × reviewers) for large instances.
    fixed: pairs kept as they are (committed earlier); a fixed pair that is also forbidden is an error.
    candidates: if given, only these pairs may be chosen (besides fixed ones); otherwise every pair
    that is not forbidden is a candidate.
    """
    p_index, r_index = _index(papers, "Paper"), _index(reviewers, "Reviewer")
    n_p, n_r = len(papers), len(reviewers)
    need = np.array([k.get(p, 0) if isinstance(k, Mapping) else k for p in papers], dtype=np.int64)
    cap = np.array(
        [loads.get(r, 0) if isinstance(loads, Mapping) else loads for r in reviewers], dtype=np.int64
    )
    if (need < 0).any() or (cap < 0).any():
        raise ValueError("k and loads must be non-negative.")

    conflicted = _pair_mask(forbidden, p_index, r_index)
    eligible = ~conflicted
    if candidates is not None:
        eligible &= _pair_mask(candidates, p_index, r_index)

    if affinity is None:
        aff = np.zeros((n_p, n_r))
    elif isinstance(affinity, Mapping):
        aff = np.zeros((n_p, n_r))
        for (p, r), value in affinity.items():
            if p in p_index and r in r_index:
                aff[p_index[p], r_index[r]] = value
    else:
        aff = np.asarray(affinity, dtype=float)
        if aff.shape != (n_p, n_r):
            raise ValueError(f"affinity has shape {aff.shape}, expected {(n_p, n_r)}.")

    fixed_mask = np.zeros((n_p, n_r), dtype=bool)
    for p, r in fixed:
        if p not in p_index or r not in r_index:
            continue
        i, j = p_index[p], r_index[r]
        if conflicted[i, j]:
            raise ValueError(
                f"Committed pair (paper {p}, reviewer {r}) is a conflict of interest; remove it first."
            )
        fixed_mask[i, j] = True
    fixed_per_paper = fixed_mask.sum(axis=1)
    fixed_per_reviewer = fixed_mask.sum(axis=0)
    demand = np.maximum(need - fixed_per_paper, 0)
    capacity = np.maximum(cap - fixed_per_reviewer, 0)
    eligible &= ~fixed_mask

    edge_p, edge_r = np.nonzero(eligible)
    edge_cost = -np.rint(aff[edge_p, edge_r] * scale).astype(np.int64)
    chosen, flow, cost = solve_flow(
        demand=demand,
        capacity=capacity,
        edge_paper=edge_p,
        edge_reviewer=edge_r,
        edge_cost=edge_cost,
    )
    new_idx = list(zip(edge_p[chosen].tolist(), edge_r[chosen].tolist(), strict=True))
    fixed_idx = list(zip(*np.nonzero(fixed_mask), strict=True))
    new_pairs = [(papers[i], reviewers[j]) for i, j in new_idx]
    pairs = [(papers[int(i)], reviewers[int(j)]) for i, j in fixed_idx] + new_pairs
    total = float(sum(aff[i, j] for i, j in fixed_idx) + sum(aff[i, j] for i, j in new_idx))
    assigned_per_paper = fixed_per_paper + np.bincount(edge_p[chosen], minlength=n_p)
    load_per_reviewer = fixed_per_reviewer + np.bincount(edge_r[chosen], minlength=n_r)
    result = AssignmentResult(
        pairs=pairs,
        new_pairs=new_pairs,
        total_affinity=total,
        total_scaled=-cost,
        feasible=flow == int(demand.sum()),
        loads={reviewers[j]: int(load_per_reviewer[j]) for j in range(n_r)},
    )
    if not result.feasible:
        _diagnose(
            result,
            papers=papers,
            reviewers=reviewers,
            need=need,
            demand=demand,
            capacity=capacity,
            eligible=eligible,
            conflicted=conflicted,
            fixed_mask=fixed_mask,
            edge_p=edge_p,
            edge_r=edge_r,
            chosen=chosen,
            assigned=assigned_per_paper,
        )
    return result


def _diagnose(
    result,
    *,
    papers,
    reviewers,
    need,
    demand,
    capacity,
    eligible,
    conflicted,
    fixed_mask,
    edge_p,
    edge_r,
    chosen,
    assigned,
) -> None:
    """Explains a maximum flow below the demand: per-paper reasons, then the competing groups found by
    a search of the residual network from the source (the source side of a minimum cut)."""
    n_p, n_r = eligible.shape
    exhausted = capacity == 0  # reviewers with no slot left before the solve (fixed pairs, load 0)
    for i in np.nonzero(assigned < need)[0]:
        cand = eligible[i]
        n_eligible = int((cand & ~exhausted).sum())
        n_conflicted = int(conflicted[i].sum())
        n_exhausted = int((cand & exhausted).sum())
        missing_alone = int(demand[i]) > n_eligible
        parts = [f"{n_conflicted} in conflict"]
        if n_exhausted:
            parts.append(f"{n_exhausted} already at their maximum load")
        no_candidate = int((~cand & ~conflicted[i] & ~fixed_mask[i]).sum())
        if no_candidate:
            parts.append(f"{no_candidate} not candidates")
        if missing_alone:
            reason = (
                f"needs {int(need[i])} reviewers, has {int(assigned[i])}; only {n_eligible} of "
                f"{n_r} reviewers are eligible ({', '.join(parts)})."
            )
        else:
            reason = (
                f"needs {int(need[i])} reviewers, has {int(assigned[i])}; {n_eligible} reviewers are "
                f"eligible but their load is taken by other papers ({', '.join(parts)})."
            )
        result.shortfalls.append(
            PaperShortfall(
                paper=papers[i],
                needed=int(need[i]),
                assigned=int(assigned[i]),
                eligible=n_eligible,
                conflicted=n_conflicted,
                load_exhausted=n_exhausted,
                reason=reason,
            )
        )

    # Residual search from the source: a paper with unmet demand is reachable; from a paper, every
    # unused edge leads to its reviewer; from a reviewer, every used edge leads back to its paper.
    reach_p = assigned < need
    reach_p &= demand > 0
    reach_r = np.zeros(n_r, dtype=bool)
    unused = ~chosen
    used = chosen
    while True:
        new_r = np.zeros(n_r, dtype=bool)
        mask = unused & reach_p[edge_p] & ~reach_r[edge_r]
        new_r[edge_r[mask]] = True
        if not new_r.any():
            break
        reach_r |= new_r
        mask = used & new_r[edge_r] & ~reach_p[edge_p]
        if not mask.any():
            continue
        reach_p[edge_p[mask]] = True
    # Connected components of the reached subgraph: each is a group competing for the same reviewers.
    group_of_p = -np.ones(n_p, dtype=np.int64)
    group_id = 0
    edges_in = reach_p[edge_p] & reach_r[edge_r]
    adj_p: dict[int, list[int]] = {}
    adj_r: dict[int, list[int]] = {}
    for i, j in zip(edge_p[edges_in].tolist(), edge_r[edges_in].tolist(), strict=True):
        adj_p.setdefault(i, []).append(j)
        adj_r.setdefault(j, []).append(i)
    seen_r: set[int] = set()
    for start in np.nonzero(reach_p)[0].tolist():
        if group_of_p[start] >= 0:
            continue
        stack, g_papers, g_reviewers = [start], [], []
        group_of_p[start] = group_id
        while stack:
            i = stack.pop()
            g_papers.append(i)
            for j in adj_p.get(i, []):
                if j in seen_r:
                    continue
                seen_r.add(j)
                g_reviewers.append(j)
                for i2 in adj_r.get(j, []):
                    if group_of_p[i2] < 0:
                        group_of_p[i2] = group_id
                        stack.append(i2)
        group_id += 1
        if len(g_papers) > 1:
            result.groups.append(
                CompetingGroup(
                    papers=[papers[i] for i in sorted(g_papers)],
                    reviewers=[reviewers[j] for j in sorted(g_reviewers)],
                    reviews_needed=int(demand[g_papers].sum()),
                    capacity_left=int(capacity[g_reviewers].sum()),
                )
            )


def top_candidates(affinity: np.ndarray, eligible: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n eligible reviewers of highest affinity for each paper, as (paper index, reviewer index)
    arrays: a sparse candidate set for very large instances (vectorised, chunked to bound memory)."""
    n_p, n_r = affinity.shape
    n = min(n, n_r)
    rows, cols = [], []
    for start in range(0, n_p, 1000):
        block = np.where(eligible[start : start + 1000], affinity[start : start + 1000], -np.inf)
        top = np.argpartition(-block, n - 1, axis=1)[:, :n]
        ok = np.isfinite(np.take_along_axis(block, top, axis=1))
        r_idx = np.broadcast_to(np.arange(start, start + len(block))[:, None], top.shape)
        rows.append(r_idx[ok])
        cols.append(top[ok])
    return np.concatenate(rows), np.concatenate(cols)
