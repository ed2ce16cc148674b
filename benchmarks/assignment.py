"""Benchmark of the chair's assignment path at CVPR size, on PostgreSQL.

A database of its own is created (and dropped at the end) on the PostgreSQL server of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/postgres) and migrated; then an edition is seeded: 8,000
submitted papers (1–3 authors each, 1–3 of 30 topics, an abstract of 80 words), 5,000 reviewers (an
account, a profile, 2–5 topics, a sentence of expertise, maximum load 6), 3 reviewers per paper,
2% random conflicts (Conflict rows), 40 bids per reviewer (eager / willing / not willing).

Measured, in a fresh child process (so that CPU time and peak memory are those of the path alone):
the run as the Celery task computes it (`assignment_run_execute`, in-process), then the chair's
pages through Django's test client — the progress page, the assignment page (preview), the
confirmation page — and the commit (POST), which writes in bulk and queues one e-mail per reviewer.

Reference (another child process, not timed): HiGHS' LP (scipy.optimize.linprog) over *all* allowed
pairs, solved by column generation with HiGHS' own duals — the LP on a subset, then every left-out
allowed pair priced with the duals; pairs with a negative reduced cost are added until none is left,
so by weak duality the LP value is the optimum over all ~39 million allowed pairs. The flow's total
(scaled integers) must equal it.

    .venv/bin/python benchmarks/assignment.py [--papers 8000 --reviewers 5000 --k 3 --load 6 --seed 0]

Prints progress lines, CPU seconds beside wall time, and ends with one JSON line: papers, reviewers,
end_to_end_s, cpu_s, peak_mb, total_affinity, lp_total_affinity, constraints_ok (+ details).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_TOPICS = 30
WORDS = [f"w{i:04d}" for i in range(3000)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("CELERY_RESULT_BACKEND", "cache+memory://")
    os.environ.setdefault("SECRET_KEY", "benchmark-secret-key-0123456789abcdef-0123456789")
    os.environ.setdefault("ALLOWED_HOSTS", "*")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("SECURE_COOKIES", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# --- Seeding (child process "seed") ---------------------------------------------------------------


def seed(args) -> None:
    import numpy as np
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from conference.models import Membership, Paper, PaperAuthor, Profile, Topic, Workshop
    from conference.reviewing.models import ReviewerProfile, ReviewSettings

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    ws = Workshop.objects.create(
        slug="cvpr-size",
        name="CVPR-sized workshop",
        short_name="BIG",
        host_conference="CVPR 2021",
        start_date="2021-06-19",
        end_date="2021-06-19",
    )
    ReviewSettings.objects.create(workshop=ws, reviewers_per_paper=args.k, default_max_load=args.load)
    topics = Topic.objects.bulk_create(
        [Topic(workshop=ws, name=f"Topic {i}", order=i) for i in range(N_TOPICS)]
    )
    User = get_user_model()
    chair = User.objects.create_user(username="chair@big.org", email="chair@big.org", password="x")
    Membership.objects.create(workshop=ws, user=chair, role=Membership.Role.CHAIR)
    users = User.objects.bulk_create(
        [
            User(username=f"r{j}@lab{j % 900}.edu", email=f"r{j}@lab{j % 900}.edu", password="!")
            for j in range(args.reviewers)
        ],
        batch_size=2000,
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users], batch_size=2000
    )
    Profile.objects.bulk_create(
        [
            Profile(user=u, full_name=f"Reviewer {j}", affiliation=f"Lab {j % 900}")
            for j, u in enumerate(users)
        ],
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        [Membership(workshop=ws, user=u, role=Membership.Role.REVIEWER) for u in users], batch_size=2000
    )

    def text(n):
        return " ".join(rng.choice(WORDS, n))

    profiles = ReviewerProfile.objects.bulk_create(
        [ReviewerProfile(workshop=ws, user=u, expertise=text(30)) for u in users], batch_size=2000
    )
    through = ReviewerProfile.topics.through
    rows = []
    for rp in profiles:
        for t in set(rng.integers(0, N_TOPICS, int(rng.integers(2, 6))).tolist()):
            rows.append(through(reviewerprofile_id=rp.pk, topic_id=topics[t].pk))
    through.objects.bulk_create(rows, batch_size=5000)
    papers = Paper.objects.bulk_create(
        [
            Paper(
                workshop=ws,
                number=i + 1,
                title=f"Paper {i + 1}: " + text(6),
                abstract=text(80),
                status="submitted",
            )
            for i in range(args.papers)
        ],
        batch_size=2000,
    )
    PaperAuthor.objects.bulk_create(
        [
            PaperAuthor(
                paper=p,
                order=o,
                name=f"Author {i}-{o}",
                email=f"a{i}-{o}@uni{i % 1500}.org",
                affiliation="Uni",
            )
            for i, p in enumerate(papers)
            for o in range(int(rng.integers(1, 4)))
        ],
        batch_size=5000,
    )
    ptopics = Paper.topics.through
    ptopics.objects.bulk_create(
        [
            ptopics(paper_id=p.pk, topic_id=topics[t].pk)
            for p in papers
            for t in set(rng.integers(0, N_TOPICS, int(rng.integers(1, 4))).tolist())
        ],
        batch_size=5000,
    )
    paper_ids = np.array([p.pk for p in papers])
    user_ids = np.array([u.pk for u in users])
    bid_p = paper_ids[rng.integers(0, len(papers), (len(users), 40))].ravel()
    bid_u = np.repeat(user_ids, 40)
    pairs = np.unique(np.stack([bid_p, bid_u], 1), axis=0)
    values = rng.choice(np.array(["eager", "willing", "not_willing"]), len(pairs), p=[0.4, 0.4, 0.2])
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO reviewing_bid (paper_id, user_id, value, updated_at) "
            "SELECT p, u, v, now() FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS t(p, u, v)",
            [pairs[:, 0].tolist(), pairs[:, 1].tolist(), values.tolist()],
        )
        cur.execute("SELECT setseed(%s)", [((args.seed % 1000) + 1) / 1001])
        cur.execute(
            "INSERT INTO reviewing_conflict (paper_id, user_id, source, state, evidence, reason, created_at) "
            "SELECT p.id, m.user_id, 'reviewer', 'confirmed', 'benchmark', '', now() "
            "FROM conference_paper p CROSS JOIN conference_membership m "
            "WHERE p.workshop_id = %s AND m.workshop_id = %s AND m.role = 'reviewer' AND random() < %s",
            [ws.pk, ws.pk, args.conflicts],
        )
        cur.execute("SELECT count(*) FROM reviewing_conflict")
        n_conflicts = cur.fetchone()[0]
        cur.execute("ANALYZE")
    print(
        f"seeded {len(papers)} papers, {len(users)} reviewers, {len(pairs)} bids, {n_conflicts} conflicts "
        f"({n_conflicts / (len(papers) * len(users)):.2%}) in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )


# --- The chair's path (child process "run") ---------------------------------------------------------


def run_path(args) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from conference.models import OutgoingMail, Paper, PaperAuthor, Workshop
    from conference.reviewing import assignment_services
    from conference.reviewing.models import Assignment, AssignmentRun, Conflict

    ws = Workshop.objects.get(slug="cvpr-size")
    chair = get_user_model().objects.get(username="chair@big.org")
    client = Client()
    client.force_login(chair)
    base = f"/{ws.slug}/review"
    base_peak = peak_mb()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    steps = {}

    def step(name, t_wall, t_cpu):
        steps[name] = {
            "wall_s": round(time.perf_counter() - t_wall, 2),
            "cpu_s": round(time.process_time() - t_cpu, 2),
        }
        print(f"  {name}: {steps[name]['wall_s']:.2f} s wall, {steps[name]['cpu_s']:.2f} CPU-s", flush=True)

    # 1. The chair starts a run (the page's POST creates the row and its task message).
    t, c = time.perf_counter(), time.process_time()
    response = client.post(
        f"{base}/assignment/", {"action": "run", "k": str(args.k), "max_load": str(args.load)}
    )
    assert response.status_code == 302, response.status_code
    run = AssignmentRun.objects.get(workshop=ws)
    step("start (POST)", t, c)
    # 2. The task's work, in-process.
    t, c = time.perf_counter(), time.process_time()
    run = assignment_services.assignment_run_execute(run_id=run.pk)
    assert run.state == "done", run.error
    step("compute (task)", t, c)
    s = run.summary
    print(
        f"    read {s['read_s']} s, affinity {s['affinity_s']} s, {s['queries']} queries; "
        f"flow on {s['edges']:,} of {s['allowed_pairs']:,} allowed pairs, {s['rounds']} round(s): {s['optimality']}",
        flush=True,
    )
    # 3. The pages: progress, preview, confirmation.
    t, c = time.perf_counter(), time.process_time()
    assert client.get(f"{base}/assignment/runs/{run.pk}/").status_code == 200
    assert client.get(f"{base}/assignment/").status_code == 200
    page = client.get(f"{base}/assignment/commit/")
    assert page.status_code == 200
    import re

    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page.content.decode()).group(1)
    step("preview + confirmation pages", t, c)
    # 4. The commit.
    t, c = time.perf_counter(), time.process_time()
    response = client.post(f"{base}/assignment/commit/", {"fingerprint": fingerprint})
    assert response.status_code == 302, response.status_code
    step("commit (POST)", t, c)
    end_to_end = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    peak = peak_mb()

    # Constraints, read back from the database.
    import numpy as np

    rows = np.array(
        list(
            Assignment.objects.filter(paper__workshop=ws, state="committed").values_list(
                "paper_id", "user_id"
            )
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    n_papers = Paper.objects.filter(workshop=ws).count()
    per_paper = np.unique(rows[:, 0], return_counts=True)[1]
    per_user = np.unique(rows[:, 1], return_counts=True)[1]
    pairs = {(int(p), int(u)) for p, u in rows}
    conflicts = set(Conflict.objects.filter(paper__workshop=ws).values_list("paper_id", "user_id"))
    conflicts |= set(
        PaperAuthor.objects.filter(paper__workshop=ws, user__isnull=False).values_list("paper_id", "user_id")
    )
    mails = OutgoingMail.objects.filter(subject__contains="assigned to you").count()
    checks = {
        "every_paper_k": bool(len(per_paper) == n_papers and (per_paper == args.k).all()),
        "max_load_ok": bool(per_user.max() <= args.load),
        "no_conflict": not (pairs & conflicts),
        "unique": len(pairs) == len(rows),
        "one_mail_per_reviewer": mails == len(per_user),
        "numbers_ok": not Assignment.objects.filter(paper__workshop=ws, number__isnull=True).exists(),
    }
    print(f"  checks: {checks}", flush=True)
    connection.close()
    print(
        "RESULT "
        + json.dumps(
            {
                "end_to_end_s": round(end_to_end, 2),
                "cpu_s": round(cpu, 2),
                "peak_mb": round(peak, 1),
                "peak_mb_before_path": round(base_peak, 1),
                "total_scaled": s["total_scaled"],
                "scale": int(round(1 / s["precision"])),
                "optimality": s["optimality"],
                "rounds": s["rounds"],
                "edges": s["edges"],
                "allowed_pairs": s["allowed_pairs"],
                "queries": s["queries"],
                "steps": steps,
                "checks": checks,
                "mails": mails,
            }
        ),
        flush=True,
    )


# --- The LP reference (child process "lp") ---------------------------------------------------------


def lp_reference(args) -> None:
    import numpy as np
    from scipy import sparse
    from scipy.optimize import linprog

    from conference.models import Workshop
    from conference.reviewing import assignment_services
    from conference.reviewing.assignment import DEFAULT_SCALE, top_candidates

    ws = Workshop.objects.get(slug="cvpr-size")
    inputs = assignment_services.assignment_inputs(workshop=ws, default_max=args.load, default_min=0)
    aff, allowed = inputs.affinity, ~inputs.forbidden
    n_p, n_r = aff.shape
    load = np.array([inputs.max_loads[u] for u in inputs.reviewers], dtype=float)
    rows, cols = top_candidates(aff, allowed, 20)
    in_lp = np.zeros((n_p, n_r), dtype=bool)
    in_lp[rows, cols] = True
    t0 = time.perf_counter()
    for round_no in range(1, 30):
        edge_p, edge_r = np.nonzero(in_lp)
        n_e = len(edge_p)
        cost = -np.rint(aff[edge_p, edge_r].astype(np.float64) * DEFAULT_SCALE)
        res = linprog(
            cost,
            A_ub=sparse.csr_matrix((np.ones(n_e), (edge_r, np.arange(n_e))), shape=(n_r, n_e)),
            b_ub=load,
            A_eq=sparse.csr_matrix((np.ones(n_e), (edge_p, np.arange(n_e))), shape=(n_p, n_e)),
            b_eq=np.full(n_p, float(args.k)),
            bounds=(0, 1),
            method="highs",
        )
        if res.status != 0:
            raise RuntimeError(f"HiGHS: {res.message}")
        y, z = res.eqlin.marginals, res.ineqlin.marginals
        added = 0
        for start in range(0, n_p, 500):
            block = slice(start, min(start + 500, n_p))
            reduced = -np.rint(aff[block].astype(np.float64) * DEFAULT_SCALE) - y[block, None] - z[None, :]
            bad = (reduced < -1e-6) & allowed[block] & ~in_lp[block]
            if bad.any():
                in_lp[block] |= bad
                added += int(bad.sum())
        print(
            f"  HiGHS round {round_no}: {n_e:,} columns, objective {-res.fun:.1f}, {added} priced in",
            flush=True,
        )
        if not added:
            break
    else:
        raise RuntimeError("column generation did not converge")
    print(
        f"RESULT {json.dumps({'lp_scaled': float(-res.fun), 'lp_s': round(time.perf_counter() - t0, 1), 'lp_rounds': round_no, 'lp_columns': int(n_e)})}",
        flush=True,
    )


# --- Orchestration ----------------------------------------------------------------------------------


def child(phase: str, args, database_url: str) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--database-url", database_url]
    cmd += ["--papers", str(args.papers), "--reviewers", str(args.reviewers), "--k", str(args.k)]
    cmd += ["--load", str(args.load), "--seed", str(args.seed), "--conflicts", str(args.conflicts)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    result = {}
    for line in proc.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"phase {phase} failed (exit {proc.returncode})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=8000)
    parser.add_argument("--reviewers", type=int, default=5000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--load", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conflicts", type=float, default=0.02)
    parser.add_argument("--phase", choices=["seed", "run", "lp"], default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if args.phase:
        setup_django(args.database_url)
        {"seed": seed, "run": run_path, "lp": lp_reference}[args.phase](args)
        return

    import psycopg

    server = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    name = f"assignment_bench_{os.getpid()}"
    admin_url = urlunparse(server._replace(path="/postgres"))
    database_url = urlunparse(server._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        print(
            f"database {name}: {args.papers} papers × {args.reviewers} reviewers, k={args.k}, load ≤ {args.load}"
        )
        child("seed", args, database_url)
        print("the chair's path (fresh process):")
        run = child("run", args, database_url)
        print("HiGHS LP over every allowed pair (column generation, fresh process):")
        lp = child("lp", args, database_url)
    finally:
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    scale = run["scale"]
    lp_scaled = int(round(lp["lp_scaled"]))
    constraints_ok = all(run["checks"].values()) and lp_scaled == run["total_scaled"]
    print(
        f"end to end {run['end_to_end_s']} s wall, {run['cpu_s']} CPU-s, peak {run['peak_mb']} MB "
        f"(target ≤ 60 s, ≤ 2,500 MB); flow total {run['total_scaled']} vs HiGHS {lp['lp_scaled']:.1f} "
        f"(affinities × {scale})"
    )
    print(
        json.dumps(
            {
                "papers": args.papers,
                "reviewers": args.reviewers,
                "end_to_end_s": run["end_to_end_s"],
                "cpu_s": run["cpu_s"],
                "peak_mb": run["peak_mb"],
                "total_affinity": run["total_scaled"] / scale,
                "lp_total_affinity": lp_scaled / scale,
                "constraints_ok": constraints_ok,
                "optimality": run["optimality"],
                "flow_rounds": run["rounds"],
                "flow_edges": run["edges"],
                "allowed_pairs": run["allowed_pairs"],
                "input_queries": run["queries"],
                "steps": run["steps"],
                "lp_seconds": lp["lp_s"],
                "lp_columns": lp["lp_columns"],
            }
        )
    )


if __name__ == "__main__":
    main()
