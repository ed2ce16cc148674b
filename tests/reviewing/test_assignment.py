"""The min-cost-flow assignment against brute force on small instances, and its diagnosis."""

import itertools
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from conference.reviewing.assignment import assignment_solve, top_candidates

SCALE = 10_000


def brute_force(n_p, n_r, k, load, aff, forbidden, fixed=()):
    """Best total (scaled integers) over every assignment, or None when none is full."""
    best = None
    fixed = set(fixed)
    options = []
    for p in range(n_p):
        kept = [r for (pp, r) in fixed if pp == p]
        free = [r for r in range(n_r) if (p, r) not in forbidden and r not in kept]
        options.append([tuple(kept) + c for c in itertools.combinations(free, k - len(kept))])
    for choice in itertools.product(*options):
        counts = [0] * n_r
        for reviewers in choice:
            for r in reviewers:
                counts[r] += 1
        if any(c > load[r] for r, c in enumerate(counts)):
            continue
        total = sum(int(round(aff[p][r] * SCALE)) for p, rs in enumerate(choice) for r in rs)
        best = total if best is None else max(best, total)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_optimal_like_brute_force_on_small_instances(seed):
    rng = random.Random(seed)
    n_p, n_r, k = rng.randint(2, 4), rng.randint(3, 6), rng.randint(1, 2)
    load = [rng.randint(0, 3) for _ in range(n_r)]
    aff = [[rng.choice([-1.0, 0.0, 0.25, 0.5, 1.0]) + rng.random() for _ in range(n_r)] for _ in range(n_p)]
    forbidden = {(p, r) for p in range(n_p) for r in range(n_r) if rng.random() < 0.2}
    fixed = []
    if seed % 3 == 0:
        p, r = rng.randrange(n_p), rng.randrange(n_r)
        if (p, r) not in forbidden and load[r] > 0:
            fixed = [(p, r)]
    expected = brute_force(n_p, n_r, k, load, aff, forbidden, fixed)
    result = assignment_solve(
        papers=list(range(n_p)),
        reviewers=list(range(n_r)),
        k=k,
        loads=dict(enumerate(load)),
        affinity=np.array(aff),
        forbidden=forbidden,
        fixed=fixed,
        scale=SCALE,
    )
    if expected is None:
        assert not result.feasible
        assert result.diagnosis(), "an infeasible instance must be explained"
        return
    assert result.feasible
    got = sum(int(round(aff[p][r] * SCALE)) for p, r in result.pairs)
    assert got == expected
    assert set(fixed) <= set(result.pairs)
    assert not set(result.pairs) & forbidden
    per_paper = {p: [r for pp, r in result.pairs if pp == p] for p in range(n_p)}
    assert all(len(rs) == k == len(set(rs)) for rs in per_paper.values())
    assert all(result.loads[r] <= load[r] for r in range(n_r))


def test_ids_and_sparse_affinity_and_chosen_values():
    result = assignment_solve(
        papers=["A", "B"],
        reviewers=[10, 20, 30],
        k=1,
        loads=1,
        affinity={("A", 10): 0.9, ("A", 20): 0.8, ("B", 10): 0.85, ("B", 30): 0.1},
    )
    # Greedy would give A→10 (0.9) and B→30 (0.1) = 1.0; the optimum is A→20, B→10 = 1.65.
    assert sorted(result.pairs) == [("A", 20), ("B", 10)]
    assert result.total_affinity == pytest.approx(1.65)
    assert result.feasible and result.diagnosis() == []


def test_fixed_pairs_are_kept_even_when_worse():
    result = assignment_solve(
        papers=["A"],
        reviewers=["x", "y", "z"],
        k=2,
        loads=1,
        affinity={("A", "x"): 1.0, ("A", "y"): 0.9, ("A", "z"): 0.0},
        fixed=[("A", "z")],
    )
    assert sorted(result.pairs) == [("A", "x"), ("A", "z")]
    assert result.new_pairs == [("A", "x")]


def test_fixed_pair_in_conflict_is_refused():
    with pytest.raises(ValueError, match="conflict of interest"):
        assignment_solve(papers=[1], reviewers=[2], k=1, loads=1, forbidden=[(1, 2)], fixed=[(1, 2)])


def test_diagnosis_names_paper_with_too_few_non_conflicted_reviewers():
    result = assignment_solve(
        papers=["P1", "P2"],
        reviewers=["a", "b", "c", "d"],
        k=3,
        loads=5,
        forbidden=[("P1", "a"), ("P1", "b")],
    )
    assert not result.feasible
    assert [s.paper for s in result.shortfalls] == ["P1"]
    short = result.shortfalls[0]
    assert (short.needed, short.assigned, short.eligible, short.conflicted) == (3, 2, 2, 2)
    assert "only 2 of 4 reviewers are eligible (2 in conflict" in short.reason
    # P2 still gets its full assignment.
    assert len([p for p, _ in result.pairs if p == "P2"]) == 3


def test_diagnosis_names_load_exhausted_by_committed_pairs():
    result = assignment_solve(
        papers=["P1", "P2"],
        reviewers=["a", "b"],
        k=2,
        loads=1,
        fixed=[("P2", "a"), ("P2", "b")],
    )
    assert [s.paper for s in result.shortfalls] == ["P1"]
    assert "2 already at their maximum load" in result.shortfalls[0].reason


def test_diagnosis_names_group_competing_for_the_same_reviewers():
    # Three papers can each only go to reviewers a or b (load 1 each), k=1: 3 needed, 2 slots.
    forbidden = [(p, r) for p in ["P1", "P2", "P3"] for r in ["c", "d"]]
    result = assignment_solve(
        papers=["P1", "P2", "P3", "P4"],
        reviewers=["a", "b", "c", "d"],
        k=1,
        loads=1,
        forbidden=forbidden,
    )
    assert not result.feasible
    assert len(result.shortfalls) == 1
    assert "their load is taken by other papers" in result.shortfalls[0].reason
    [group] = result.groups
    assert group.papers == ["P1", "P2", "P3"]
    assert group.reviewers == ["a", "b"]
    assert (group.reviews_needed, group.capacity_left, group.missing) == (3, 2, 1)
    assert any("compete for the same 2 eligible reviewer(s)" in line for line in result.diagnosis())


def test_top_candidates_keeps_the_best_eligible_per_paper():
    aff = np.array([[0.1, 0.9, 0.5, 0.7], [0.3, 0.2, 0.8, 0.6]])
    eligible = np.array([[True, False, True, True], [True, True, True, True]])
    rows, cols = top_candidates(aff, eligible, 2)
    pairs = sorted(zip(rows.tolist(), cols.tolist(), strict=True))
    assert pairs == [(0, 2), (0, 3), (1, 2), (1, 3)]


def test_benchmark_script_on_a_small_instance_matches_the_lp():
    """The benchmark as documented (its own database, seeded, the chair's path, HiGHS), made small."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "assignment.py"), "--papers", "120", "--reviewers", "80"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["constraints_ok"] is True
    assert result["total_affinity"] == result["lp_total_affinity"] > 0
    assert (result["papers"], result["reviewers"]) == (120, 80)


# --- Load rules, pruning with a certificate, HiGHS as the reference --------------------------------


def highs_optimum(aff_scaled: np.ndarray, allowed: np.ndarray, k: int, load: int) -> int:
    """The exact LP over every allowed pair (HiGHS): max Σ a·x, each paper k, each reviewer ≤ load."""
    n_p, n_r = allowed.shape
    edge_p, edge_r = np.nonzero(allowed)
    n_e = len(edge_p)
    cols = np.arange(n_e)
    res = linprog(
        -aff_scaled[edge_p, edge_r].astype(float),
        A_ub=sparse.csr_matrix((np.ones(n_e), (edge_r, cols)), shape=(n_r, n_e)),
        b_ub=np.full(n_r, load),
        A_eq=sparse.csr_matrix((np.ones(n_e), (edge_p, cols)), shape=(n_p, n_e)),
        b_eq=np.full(n_p, k),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0, res.message
    return int(round(-res.fun))


def star_instance(n_p=60, n_r=40, stars=4, seed=1):
    """Every paper prefers the same few "star" reviewers: the top reviewers of each paper are stars."""
    rng = np.random.default_rng(seed)
    aff = rng.random((n_p, n_r)) * 0.3
    aff[:, :stars] += 1.0
    forbidden = rng.random((n_p, n_r)) < 0.05
    forbidden[:, :stars] = False
    return aff, forbidden


def test_star_reviewers_top_n_alone_is_infeasible_but_the_certified_result_equals_highs():
    aff, forbidden = star_instance()
    n_p, n_r = aff.shape
    k, load = 2, 3  # 120 reviews, 120 slots: every reviewer is needed
    papers, reviewers = list(range(n_p)), list(range(n_r))
    # The plain top-4 restriction cannot give every paper its 2 reviewers (the stars have 12 slots).
    top_rows, top_cols = top_candidates(aff, ~forbidden, 4)
    top = np.zeros_like(forbidden)
    top[top_rows, top_cols] = True
    restricted = assignment_solve(
        papers=papers, reviewers=reviewers, k=k, loads=load, affinity=aff, forbidden=forbidden, candidates=top
    )
    assert not restricted.feasible and restricted.optimality == "candidates"
    # Pruned to 4 per paper, then certified (or completed) by reduced costs: the LP optimum over all pairs.
    result = assignment_solve(
        papers=papers, reviewers=reviewers, k=k, loads=load, affinity=aff, forbidden=forbidden, prune=4
    )
    assert result.feasible
    # The first round's certificate failed: pairs were added (column generation) before it held.
    assert result.optimality in ("certified", "exact") and result.rounds >= 2
    expected = highs_optimum(np.rint(aff * SCALE).astype(np.int64), ~forbidden, k, load)
    assert result.total_scaled == expected
    assert all(load_ == load for load_ in result.loads.values())
    assert not {(p, r) for p, r in result.pairs} & set(zip(*np.nonzero(forbidden), strict=True))


@pytest.mark.parametrize("seed", range(8))
def test_pruned_and_full_graph_give_the_same_optimum(seed):
    rng = np.random.default_rng(seed)
    n_p, n_r = 50, 30
    aff = rng.random((n_p, n_r))
    aff[:, rng.integers(0, n_r, 3)] += rng.random() * 2  # a few popular reviewers
    forbidden = rng.random((n_p, n_r)) < 0.1
    kwargs = {
        "papers": list(range(n_p)),
        "reviewers": list(range(n_r)),
        "k": 3,
        "affinity": aff,
        "forbidden": forbidden,
    }
    loads = {r: int(rng.integers(4, 8)) for r in range(n_r)}
    full = assignment_solve(**kwargs, loads=loads, prune=0)
    pruned = assignment_solve(**kwargs, loads=loads, prune=3)
    assert full.optimality == "exact" and pruned.optimality in ("certified", "exact")
    assert pruned.feasible == full.feasible
    assert pruned.total_scaled == full.total_scaled


def test_minimum_load_spreads_three_papers_over_five_reviewers():
    # The instance: 3 papers, k = 2, 5 reviewers; one reviewer is everyone's favourite.
    aff = np.array([[0.9, 0.8, 0.1, 0.1, 0.1], [0.9, 0.1, 0.8, 0.1, 0.1], [0.9, 0.1, 0.1, 0.8, 0.1]])
    kwargs = {"papers": ["P1", "P2", "P3"], "reviewers": list("abcde"), "k": 2, "loads": 3, "affinity": aff}
    plain = assignment_solve(**kwargs)
    assert sorted(plain.loads.values()) == [0, 1, 1, 1, 3]  # the imbalance the chair saw
    spread = assignment_solve(**kwargs, min_loads=1)
    assert spread.feasible and not spread.below_min
    assert sorted(spread.loads.values()) == [1, 1, 1, 1, 2]
    # Among assignments that give everyone a paper, the best: "a" keeps two of its 0.9 pairs.
    assert spread.loads["a"] == 2 and spread.loads["e"] == 1
    # A per-reviewer override: only "e" must review.
    only_e = assignment_solve(**kwargs, min_loads={"e": 2})
    assert only_e.loads["e"] == 2 and only_e.feasible


def test_balance_option_spreads_loads():
    aff = np.array([[0.9, 0.8, 0.1, 0.1, 0.1], [0.9, 0.1, 0.8, 0.1, 0.1], [0.9, 0.1, 0.1, 0.8, 0.1]])
    kwargs = {"papers": ["P1", "P2", "P3"], "reviewers": list("abcde"), "k": 2, "loads": 3, "affinity": aff}
    balanced = assignment_solve(**kwargs, balance=2.0)
    assert max(balanced.loads.values()) - min(balanced.loads.values()) <= 1
    assert balanced.feasible
    mild = assignment_solve(**kwargs, balance=0.05)  # a small weight only breaks near-ties
    assert sorted(mild.loads.values()) == [0, 1, 1, 1, 3]


def test_unreachable_minimum_is_reported_not_forced():
    # 1 paper, k = 1, two reviewers with minimum 1: one of them stays below, the paper is still full.
    result = assignment_solve(papers=["P"], reviewers=["a", "b"], k=1, loads=2, min_loads=1)
    assert result.feasible and len(result.below_min) == 1
    assert result.below_min[0][1:] == (0, 1)


def test_minimum_load_never_costs_a_review():
    # "b" can only take P1; giving "b" its minimum would leave P2 without a reviewer: coverage wins.
    result = assignment_solve(
        papers=["P1", "P2"],
        reviewers=["a", "b"],
        k=1,
        loads={"a": 1, "b": 1},
        min_loads=1,
        forbidden=[("P2", "b")],
        affinity={("P1", "a"): 1.0},
    )
    assert result.feasible
    assert sorted(result.pairs) == [("P1", "b"), ("P2", "a")]


def test_min_load_and_balance_optimal_like_brute_force():
    rng = np.random.default_rng(7)
    for _ in range(25):
        n_p, n_r, k = int(rng.integers(2, 4)), int(rng.integers(3, 6)), int(rng.integers(1, 3))
        load = [int(x) for x in rng.integers(1, 4, n_r)]
        floor = [int(x) for x in rng.integers(0, 2, n_r)]
        aff = rng.random((n_p, n_r)).round(2)
        w = float(rng.choice([0.0, 0.3]))
        result = assignment_solve(
            papers=list(range(n_p)),
            reviewers=list(range(n_r)),
            k=k,
            loads=dict(enumerate(load)),
            min_loads=dict(enumerate(floor)),
            affinity=aff,
            balance=w,
        )
        best = None
        for choice in itertools.product(*[list(itertools.combinations(range(n_r), k))] * n_p):
            counts = [0] * n_r
            for rs in choice:
                for r in rs:
                    counts[r] += 1
            if any(c > load[r] for r, c in enumerate(counts)):
                continue
            short = sum(max(0, min(floor[r], load[r]) - c) for r, c in enumerate(counts))
            value = sum(int(round(aff[p][r] * SCALE)) for p, rs in enumerate(choice) for r in rs)
            value -= sum(int(round(w * SCALE)) * c * (c - 1) // 2 for c in counts)
            key = (-short, value)
            best = key if best is None else max(best, key)
        if best is None:
            assert not result.feasible
            continue
        counts = [result.loads[r] for r in range(n_r)]
        short = sum(max(0, min(floor[r], load[r]) - c) for r, c in enumerate(counts))
        value = sum(int(round(aff[p][r] * SCALE)) for p, r in result.pairs)
        value -= sum(int(round(w * SCALE)) * c * (c - 1) // 2 for c in counts)
        assert result.feasible and (-short, value) == best
