"""The min-cost-flow assignment against brute force on small instances, and its diagnosis."""

import itertools
import random

import numpy as np
import pytest

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
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [
            sys.executable,
            str(root / "benchmarks" / "assignment.py"),
            "--papers",
            "300",
            "--reviewers",
            "200",
            "--top",
            "20",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["constraints_ok"] is True
    assert result["total_affinity"] == result["lp_total_affinity"] > 0
    assert (result["papers"], result["reviewers"]) == (300, 200)
