"""The paper–reviewer assignment, solved exactly as a min-cost flow (OR-Tools), with plain inputs and
outputs and no Django import.

Network: source → paper (capacity: reviews still needed) → reviewer (capacity 1 per eligible pair, cost
−affinity scaled to an integer) → sink, plus a bypass source → sink of prohibitive cost that carries
the reviews no assignment can give (so every instance has a solution and the shortfall is explained).
The reviewer → sink arcs carry the load rules:
- maximum load: their total capacity (the reviewer's load left after committed pairs);
- minimum load: the first `min − committed` units have a cost of −BIG₂, so the solver fills every
  reviewer's minimum whenever some full assignment allows it, before it looks at affinities;
- balance (`balance = w` > 0): one unit arc per slot, the t-th paper of a reviewer costing
  w · (t − 1) in affinity units: a convex cost, so loads spread out unless affinity gains outweigh it.
Priorities are lexicographic: reviews given (BIG₁ per missing review) ≫ minimum loads (BIG₂ per unit)
≫ affinity − balance cost. Because the constraint matrix is totally unimodular the integer optimum is
also optimal among fractional assignments (tests compare it with HiGHS' LP).

Candidate pruning (`prune=N`, automatic on large instances) solves on the N best eligible reviewers of
each paper and the best papers of each reviewer, then proves the result optimal over *every* allowed
pair: node potentials π are computed from the optimal flow (shortest distances in its residual network,
Bellman–Ford), and a left-out pair (p, r) could only improve the optimum if its reduced cost
−a(p, r) + π(p) − π(r) were negative. Pairs that fail the test are added and the flow is solved again
(column generation); after `MAX_ROUNDS` the full graph is solved. The result is therefore never worse
than the optimum over all allowed pairs, nor infeasible when a full assignment exists (the
"star reviewer" instance where top-N pruning alone is infeasible).

Pairs already committed (`fixed`) are kept: they use up the paper's demand and the reviewer's load
before the flow is solved. When no full assignment exists the result says exactly which papers lack
reviewers and why: a paper with too few eligible reviewers on its own (conflicts, exhausted loads, no
candidate), or a group of papers that compete for the same few reviewers (a violated Hall condition,
read off the minimum cut of the flow network).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

#: Affinities are multiplied by this and rounded: the solver works on integers (precision 1/scale).
DEFAULT_SCALE = 10_000
#: Pruning is used automatically above this many allowed pairs (the full graph is solved below it).
AUTO_PRUNE_PAIRS = 2_000_000
#: Reviewers kept per paper when pruning (plus the best papers of every reviewer).
DEFAULT_PRUNE = 40
#: Column-generation rounds before falling back to the full graph.
MAX_ROUNDS = 12


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
    total_scaled: int  # sum of the scaled (integer) affinities of the new pairs
    feasible: bool
    shortfalls: list[PaperShortfall] = field(default_factory=list)
    groups: list[CompetingGroup] = field(default_factory=list)
    loads: dict = field(default_factory=dict)  # reviewer -> number of papers (fixed included)
    below_min: list[tuple] = field(default_factory=list)  # (reviewer, load, minimum) left below minimum
    #: "exact" (the full graph was solved), "certified" (pruned, then proved optimal over every allowed
    #: pair by reduced costs) or "candidates" (optimal among the caller's candidate pairs only).
    optimality: str = "exact"
    rounds: int = 1  # flows solved (column generation rounds)
    edges: int = 0  # paper–reviewer arcs in the last flow solved
    allowed_pairs: int = 0  # non-conflicted pairs that could still be chosen
    scale: int = DEFAULT_SCALE

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


def _per_item(value, ids: Sequence, default: int = 0) -> np.ndarray:
    if isinstance(value, Mapping):
        return np.array([value.get(i, default) for i in ids], dtype=np.int64)
    return np.full(len(ids), int(value), dtype=np.int64)


def _scaled(values: np.ndarray, scale: int) -> np.ndarray:
    """Affinities as integers, the same rounding everywhere (float64 before scaling)."""
    return np.rint(np.asarray(values, dtype=np.float64) * scale).astype(np.int64)


@dataclass
class _Network:
    """The flow network of one round; arcs in the order: source→paper, paper→reviewer,
    reviewer→sink, bypass."""

    n_p: int
    n_r: int
    demand: np.ndarray
    edge_p: np.ndarray
    edge_r: np.ndarray
    edge_cost: np.ndarray
    sink_r: np.ndarray
    sink_cap: np.ndarray
    sink_cost: np.ndarray
    big1: int

    def arrays(self):
        n_p, n_r = self.n_p, self.n_r
        s, t = n_p + n_r, n_p + n_r + 1
        total = int(self.demand.sum())
        tails = np.concatenate([np.full(n_p, s), self.edge_p, self.sink_r + n_p, [s]]).astype(np.int64)
        heads = np.concatenate([np.arange(n_p), self.edge_r + n_p, np.full(len(self.sink_r), t), [t]]).astype(
            np.int64
        )
        caps = np.concatenate(
            [self.demand, np.ones(len(self.edge_p), dtype=np.int64), self.sink_cap, [total]]
        ).astype(np.int64)
        costs = np.concatenate(
            [np.zeros(n_p, dtype=np.int64), self.edge_cost, self.sink_cost, [self.big1]]
        ).astype(np.int64)
        return tails, heads, caps, costs


def _solve_network(net: _Network) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tails, heads, caps, costs = net.arrays()
    total = int(net.demand.sum())
    if total == 0:
        return tails, heads, caps, costs, np.zeros(len(tails), dtype=np.int64)
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, costs)
    n_nodes = net.n_p + net.n_r + 2
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[n_nodes - 2], supplies[n_nodes - 1] = total, -total
    smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow solver returned status {status}")
    flows = np.asarray(smcf.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
    return tails, heads, caps, costs, flows


def residual_potentials(tails, heads, caps, costs, flows, n_nodes: int) -> np.ndarray | None:
    """Node potentials π with c(u, v) + π(u) − π(v) ≥ 0 on every residual arc of an optimal flow:
    shortest distances from a virtual root joined to every node (Bellman–Ford, vectorised). None when
    the residual network has a negative cycle (the flow was not optimal)."""
    fwd, bwd = flows < caps, flows > 0
    t = np.concatenate([tails[fwd], heads[bwd]])
    h = np.concatenate([heads[fwd], tails[bwd]])
    w = np.concatenate([costs[fwd], -costs[bwd]])
    order = np.argsort(h, kind="stable")
    t, h, w = t[order], h[order], w[order]
    dist = np.zeros(n_nodes, dtype=np.int64)
    if len(h) == 0:
        return dist
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    targets = h[starts]
    for _ in range(n_nodes + 1):
        best = np.minimum.reduceat(dist[t] + w, starts)
        improved = best < dist[targets]
        if not improved.any():
            return dist
        dist[targets[improved]] = best[improved]
    return None


def _top_per_paper(aff, active, n: int, rows_block: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    return top_candidates(aff, active, n, rows_block=rows_block)


def _top_per_reviewer(aff, active, n: int, cols_block: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """The n active papers of highest affinity for each reviewer (vectorised, chunked)."""
    n_p, n_r = aff.shape
    n = min(n, n_p)
    rows, cols = [], []
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    for start in range(0, n_r, cols_block):
        block = np.where(active[:, start : start + cols_block], aff[:, start : start + cols_block], -np.inf)
        top = np.argpartition(-block, n - 1, axis=0)[:n, :]
        ok = np.isfinite(np.take_along_axis(block, top, axis=0))
        c_idx = np.broadcast_to(np.arange(start, start + block.shape[1])[None, :], top.shape)
        rows.append(top[ok])
        cols.append(c_idx[ok])
    return np.concatenate(rows), np.concatenate(cols)


def _violations(
    aff, active, in_net, pi_p, pi_r, scale: int, per_paper: int, rows_block: int = 500
) -> tuple[np.ndarray, np.ndarray, int]:
    """Left-out active pairs with a negative reduced cost −a + π(p) − π(r); for each paper the
    `per_paper` most negative. Returns (paper idx, reviewer idx, number of violating pairs)."""
    n_p, _ = aff.shape
    rows, cols, count = [], [], 0
    for start in range(0, n_p, rows_block):
        stop = min(start + rows_block, n_p)
        reduced = pi_p[start:stop, None] - pi_r[None, :] - _scaled(aff[start:stop], scale)
        bad = (reduced < 0) & active[start:stop] & ~in_net[start:stop]
        n_bad = int(bad.sum())
        if not n_bad:
            continue
        count += n_bad
        masked = np.where(bad, reduced, np.iinfo(np.int64).max)
        m = min(per_paper, masked.shape[1])
        top = np.argpartition(masked, m - 1, axis=1)[:, :m]
        ok = np.take_along_axis(bad, top, axis=1)
        r_idx = np.broadcast_to(np.arange(start, stop)[:, None], top.shape)
        rows.append(r_idx[ok])
        cols.append(top[ok])
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0
    return np.concatenate(rows), np.concatenate(cols), count


def _noop_progress(stage: str, fraction: float) -> None:
    return None


def assignment_solve(
    *,
    papers: Sequence[Hashable],
    reviewers: Sequence[Hashable],
    k: int | Mapping[Hashable, int] = 3,
    loads: int | Mapping[Hashable, int] = 6,
    min_loads: int | Mapping[Hashable, int] = 0,
    affinity: np.ndarray | Mapping[tuple, float] | None = None,
    forbidden: Iterable[tuple] | np.ndarray = (),
    fixed: Iterable[tuple] = (),
    candidates: Iterable[tuple] | np.ndarray | None = None,
    scale: int = DEFAULT_SCALE,
    balance: float = 0.0,
    prune: int | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> AssignmentResult:
    """The best assignment of `k` reviewers per paper, every reviewer between `min_loads` and `loads`.

    affinity: a dense array (papers × reviewers, in the given orders) or a dict {(paper, reviewer):
    value}; pairs missing from the dict have affinity 0. forbidden: pairs never assigned (conflicts).
    forbidden and candidates may also be boolean masks (papers × reviewers) for large instances.
    fixed: pairs kept as they are (committed earlier); a fixed pair that is also forbidden is an error.
    candidates: if given, only these pairs may be chosen (besides fixed ones) and the result is optimal
    among them only; otherwise every pair that is not forbidden is allowed.
    min_loads: soft minimum per reviewer, met whenever a full assignment allows it (`below_min` lists
    the reviewers left under it). balance: w ≥ 0, the t-th paper of a reviewer costs w·(t − 1).
    prune: reviewers kept per paper before certification (None: automatic, 0: never prune).
    progress(stage, fraction) is called between the steps.
    """
    report = progress or _noop_progress
    p_index, r_index = _index(papers, "Paper"), _index(reviewers, "Reviewer")
    n_p, n_r = len(papers), len(reviewers)
    need = _per_item(k, papers)
    cap = _per_item(loads, reviewers)
    floor = _per_item(min_loads, reviewers)
    if (need < 0).any() or (cap < 0).any() or (floor < 0).any():
        raise ValueError("k and loads must be non-negative.")
    if balance < 0:
        raise ValueError("The balance weight must be non-negative.")

    conflicted = _pair_mask(forbidden, p_index, r_index)
    allowed = ~conflicted
    restricted = candidates is not None
    if restricted:
        allowed &= _pair_mask(candidates, p_index, r_index)

    if affinity is None:
        aff = np.zeros((n_p, n_r), dtype=np.float32)
    elif isinstance(affinity, Mapping):
        aff = np.zeros((n_p, n_r))
        for (p, r), value in affinity.items():
            if p in p_index and r in r_index:
                aff[p_index[p], r_index[r]] = value
    else:
        aff = np.asarray(affinity)
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
    floor_left = np.minimum(np.maximum(floor - fixed_per_reviewer, 0), capacity)
    allowed &= ~fixed_mask
    active = allowed & (demand > 0)[:, None] & (capacity > 0)[None, :]
    n_active = int(active.sum())

    # Integer costs and the lexicographic weights.
    balance_scaled = int(round(balance * scale))
    max_aff = int(np.ceil(float(np.abs(aff).max()) * scale)) + 1 if aff.size else 1
    max_balance = balance_scaled * int((fixed_per_reviewer + capacity).max(initial=0))
    path_bound = (max_aff + max_balance) * (n_p + n_r + 3) + 1
    big2 = path_bound if floor_left.any() else 0
    big1 = big2 * (n_r + 1) + path_bound
    if big1 * (n_p + n_r + 3) > 2**62:
        raise ValueError("The instance is too large for the integer scale: lower `scale`.")

    # Reviewer → sink arcs.
    if balance_scaled:
        sink_r = np.repeat(np.arange(n_r), capacity)
        slot = np.arange(len(sink_r)) - np.repeat(np.cumsum(capacity) - capacity, capacity)
        sink_cap = np.ones(len(sink_r), dtype=np.int64)
        sink_cost = balance_scaled * (fixed_per_reviewer[sink_r] + slot) - big2 * (slot < floor_left[sink_r])
    else:
        rest = capacity - floor_left
        sink_r = np.concatenate([np.flatnonzero(floor_left), np.flatnonzero(rest)])
        sink_cap = np.concatenate([floor_left[floor_left > 0], rest[rest > 0]])
        sink_cost = np.concatenate(
            [np.full(int((floor_left > 0).sum()), -big2, dtype=np.int64), np.zeros(int((rest > 0).sum()))]
        )
    sink_r, sink_cap, sink_cost = (a.astype(np.int64) for a in (sink_r, sink_cap, sink_cost))

    if prune is None:
        prune = DEFAULT_PRUNE if n_active > AUTO_PRUNE_PAIRS and not restricted else 0
    pruning = bool(prune) and not restricted and n_active > 0

    def network(edge_p, edge_r) -> _Network:
        return _Network(
            n_p=n_p,
            n_r=n_r,
            demand=demand,
            edge_p=edge_p.astype(np.int64),
            edge_r=edge_r.astype(np.int64),
            edge_cost=-_scaled(aff[edge_p, edge_r], scale),
            sink_r=sink_r,
            sink_cap=sink_cap,
            sink_cost=sink_cost,
            big1=big1,
        )

    optimality = "candidates" if restricted else "exact"
    rounds = 0
    if pruning:
        report("candidates", 0.0)
        rp, rr = _top_per_paper(aff, active, prune)
        per_reviewer = int(2 * capacity.max(initial=0) + need.max(initial=0))
        cp, cr = _top_per_reviewer(aff, active, per_reviewer)
        in_net = np.zeros((n_p, n_r), dtype=bool)
        in_net[rp, rr] = True
        in_net[cp, cr] = True
        while True:
            rounds += 1
            edge_p, edge_r = np.nonzero(in_net)
            report(f"solving (round {rounds}, {len(edge_p):,} pairs)", min(0.1 + 0.15 * rounds, 0.8))
            net = network(edge_p, edge_r)
            tails, heads, caps, costs, flows = _solve_network(net)
            report(f"certifying (round {rounds})", min(0.15 + 0.15 * rounds, 0.85))
            pi = residual_potentials(tails, heads, caps, costs, flows, n_p + n_r + 2)
            if pi is None:
                raise RuntimeError("The flow solver returned a non-optimal flow (negative residual cycle).")
            vp, vr, n_bad = _violations(aff, active, in_net, pi[:n_p], pi[n_p : n_p + n_r], scale, prune)
            if n_bad == 0:
                optimality = "certified"
                break
            if rounds >= MAX_ROUNDS:
                in_net = active.copy()
                rounds += 1
                report(f"solving the full graph ({n_active:,} pairs)", 0.85)
                edge_p, edge_r = np.nonzero(in_net)
                net = network(edge_p, edge_r)
                tails, heads, caps, costs, flows = _solve_network(net)
                optimality = "exact"
                break
            in_net[vp, vr] = True
        del in_net
    else:
        rounds = 1
        report(f"solving ({n_active:,} pairs)", 0.2)
        edge_p, edge_r = np.nonzero(active)
        net = network(edge_p, edge_r)
        tails, heads, caps, costs, flows = _solve_network(net)

    report("collecting", 0.9)
    n_edges = len(net.edge_p)
    chosen = flows[n_p : n_p + n_edges] > 0
    bypass = int(flows[-1])
    edge_p, edge_r = net.edge_p, net.edge_r
    new_idx = list(zip(edge_p[chosen].tolist(), edge_r[chosen].tolist(), strict=True))
    fixed_idx = [(int(i), int(j)) for i, j in zip(*np.nonzero(fixed_mask), strict=True)]
    new_pairs = [(papers[i], reviewers[j]) for i, j in new_idx]
    pairs = [(papers[i], reviewers[j]) for i, j in fixed_idx] + new_pairs
    total = float(sum(float(aff[i, j]) for i, j in fixed_idx)) + float(
        np.asarray(aff[edge_p[chosen], edge_r[chosen]], dtype=np.float64).sum()
    )
    assigned_per_paper = fixed_per_paper + np.bincount(edge_p[chosen], minlength=n_p)
    load_per_reviewer = fixed_per_reviewer + np.bincount(edge_r[chosen], minlength=n_r)
    result = AssignmentResult(
        pairs=pairs,
        new_pairs=new_pairs,
        total_affinity=total,
        total_scaled=int(-net.edge_cost[chosen].sum()),
        feasible=bypass == 0,
        loads={reviewers[j]: int(load_per_reviewer[j]) for j in range(n_r)},
        below_min=[
            (reviewers[j], int(load_per_reviewer[j]), int(floor[j]))
            for j in np.flatnonzero(load_per_reviewer < np.minimum(floor, cap))
        ],
        optimality=optimality,
        rounds=rounds,
        edges=n_edges,
        allowed_pairs=int(allowed.sum()),
        scale=scale,
    )
    if not result.feasible:
        _diagnose(
            result,
            papers=papers,
            reviewers=reviewers,
            need=need,
            demand=demand,
            capacity=capacity,
            eligible=allowed,
            conflicted=conflicted,
            fixed_mask=fixed_mask,
            edge_p=edge_p,
            edge_r=edge_r,
            chosen=chosen,
            assigned=assigned_per_paper,
        )
    report("done", 1.0)
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


def top_candidates(
    affinity: np.ndarray, eligible: np.ndarray, n: int, rows_block: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """The n eligible reviewers of highest affinity for each paper, as (paper index, reviewer index)
    arrays: a sparse candidate set for very large instances (vectorised, chunked to bound memory)."""
    n_p, n_r = affinity.shape
    n = min(n, n_r)
    rows, cols = [], []
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    for start in range(0, n_p, rows_block):
        block = np.where(eligible[start : start + rows_block], affinity[start : start + rows_block], -np.inf)
        top = np.argpartition(-block, n - 1, axis=1)[:, :n]
        ok = np.isfinite(np.take_along_axis(block, top, axis=1))
        r_idx = np.broadcast_to(np.arange(start, start + len(block))[:, None], top.shape)
        rows.append(r_idx[ok])
        cols.append(top[ok])
    return np.concatenate(rows), np.concatenate(cols)
