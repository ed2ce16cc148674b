"""The automatic assignment at CVPR size, as the chair uses it: a run computed by a Celery task with a
progress page and a bulk commit (the reads of its pages — preview, confirmation, loads — are in
`assignment_selectors`).

State machine of an `AssignmentRun` (one queued or running run per edition, a database constraint):
- queued (`assignment_run_start`: the row and its task message commit together through the dispatch
  outbox) → running (`assignment_run_execute`, in the task: attempts + 1, a heartbeat every few
  seconds from a thread while the solver works) → done (proposed `Assignment` rows replaced by the
  run's proposal, summary stored) | failed (the reason in `error`, shown on the page).
- A queued run that no worker picked up within `ASSIGNMENT_RUN_QUEUE_TIMEOUT_S`, a running run silent
  for `ASSIGNMENT_RUN_STALE_S` or past its `deadline` is marked failed by `assignment_runs_sweep`
  (the periodic task `reviewing.sweep_assignment_runs`, and every poll of the progress page). A task
  redelivered after its worker died runs again (attempt 2); a run marked failed is never resumed.
- done → committed (`assignments_commit` from the confirmation page): every proposed pair becomes a
  committed, numbered "Reviewer n" row in bulk and each reviewer gets one e-mail.

Inputs are read in a fixed number of set-based queries (`assignment_inputs`), whatever the number of
papers and reviewers; the commit writes in bulk (one UPDATE per reviewer number, `bulk_create` for
the mail).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from common.dispatch import dispatch, dispatch_send, ref_for
from common.models import Dispatch
from common.urls import absolute_url
from conference.models import Membership, OutgoingMail, Paper, PaperAuthor, Workshop

from . import selectors
from .affinity import BID_VALUES, affinity_matrix_blocked
from .assignment import assignment_solve
from .assignment_selectors import (
    assignment_commit_fingerprint,
    assignment_pairs_forbidden,
    member_address_owners,
)
from .domain.review_settings import review_settings_ensure
from .models import Assignment, AssignmentRun, Bid, Conflict, ReviewerProfile, ReviewSettings

RUN_TASK = "reviewing.compute_assignment"
MAIL_TASK = "reviewing.send_assignment_mails"
MAX_ATTEMPTS = 2


def queue_timeout_s() -> float:
    return float(settings.ASSIGNMENT_RUN_QUEUE_TIMEOUT_S)


def stale_after_s() -> float:
    return float(settings.ASSIGNMENT_RUN_STALE_S)


def time_limit_s() -> float:
    return float(settings.ASSIGNMENT_RUN_TIME_LIMIT_S)


def heartbeat_every_s() -> float:
    return float(settings.ASSIGNMENT_RUN_HEARTBEAT_S)


# --- Inputs, in a few set-based queries ----------------------------------------------------------


@dataclass
class AssignmentInputs:
    papers: list[int]  # paper ids, by number
    numbers: dict[int, int]  # paper id -> number
    reviewers: list[int]  # user ids
    emails: dict[int, str]  # user id -> address
    forbidden: np.ndarray  # papers × reviewers, True where a conflict of interest forbids the pair
    fixed: list[tuple[int, int]]  # committed (and hand-made proposed) pairs kept by the run
    dropped_in_conflict: int  # committed/hand-made pairs now in conflict, not kept
    max_loads: dict[int, int]
    min_loads: dict[int, int]
    affinity: np.ndarray  # float32, papers × reviewers
    queries: int = 0
    timings: dict = field(default_factory=dict)


def assignment_inputs(*, workshop: Workshop, default_max: int, default_min: int) -> AssignmentInputs:
    """Everything the solver needs, read with a fixed number of queries (no per-reviewer query)."""
    counter = {"n": 0}

    def count(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        return _read_inputs(workshop, default_max, default_min, counter)


@dataclass
class _Grid:
    """Paper and reviewer ids with their matrix indices, and the papers × reviewers forbidden mask."""

    papers: list[int]
    reviewers: list[int]

    def __post_init__(self):
        self.p_index = {pid: i for i, pid in enumerate(self.papers)}
        self.r_index = {uid: j for j, uid in enumerate(self.reviewers)}
        self.forbidden = np.zeros((len(self.papers), len(self.reviewers)), dtype=bool)

    def forbid(self, pid, uid) -> None:
        i, j = self.p_index.get(pid), self.r_index.get(uid)
        if i is not None and j is not None:
            self.forbidden[i, j] = True


def _forbid_conflict_rows(workshop: Workshop, grid: _Grid) -> None:
    """Conflict rows (hundreds of thousands at CVPR size): ids mapped to indices with numpy."""
    papers, reviewers = grid.papers, grid.reviewers
    pairs = np.array(
        list(
            Conflict.objects.filter(
                paper__workshop=workshop, state__in=selectors.ACTIVE_CONFLICT
            ).values_list("paper_id", "user_id")
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    if len(pairs) and papers and reviewers:
        p_map = np.full(max(int(pairs[:, 0].max()), max(papers)) + 1, -1, dtype=np.int64)
        p_map[papers] = np.arange(len(papers))
        r_map = np.full(max(int(pairs[:, 1].max()), max(reviewers)) + 1, -1, dtype=np.int64)
        r_map[reviewers] = np.arange(len(reviewers))
        i, j = p_map[pairs[:, 0]], r_map[pairs[:, 1]]
        ok = (i >= 0) & (j >= 0)
        grid.forbidden[i[ok], j[ok]] = True


def _read_bids(workshop: Workshop, grid: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bids as (paper index, reviewer index, value) arrays; "in conflict" bids forbid the pair."""
    bid_p, bid_r, bid_v = [], [], []
    for pid, uid, value in Bid.objects.filter(paper__workshop=workshop).values_list(
        "paper_id", "user_id", "value"
    ):
        if value == Bid.Value.CONFLICT:
            grid.forbid(pid, uid)
        elif pid in grid.p_index and uid in grid.r_index:
            bid_p.append(grid.p_index[pid])
            bid_r.append(grid.r_index[uid])
            bid_v.append(BID_VALUES.get(value, 0.0))
    return np.array(bid_p, dtype=np.int64), np.array(bid_r, dtype=np.int64), np.array(bid_v)


def _forbid_authors(workshop: Workshop, grid: _Grid, owner: dict, paper_rows: list) -> dict[int, list[str]]:
    """Forbids a paper to its own authors (by account or by any address they listed) and its submitter;
    returns each member's past abstracts (their text profile)."""
    past: dict[int, list[str]] = {}
    for pid, uid, email, abstract in PaperAuthor.objects.filter(paper__workshop=workshop).values_list(
        "paper_id", "user_id", "email", "paper__abstract"
    ):
        people = set(owner.get((email or "").strip().lower(), ()))
        if uid in grid.r_index:
            people.add(uid)
        for who in people:
            grid.forbid(pid, who)
            past.setdefault(who, []).append(abstract)
    for uid, abstract in (
        PaperAuthor.objects.filter(user_id__in=grid.reviewers)
        .exclude(paper__workshop=workshop)
        .values_list("user_id", "paper__abstract")
    ):
        past.setdefault(uid, []).append(abstract)
    for row in paper_rows:
        if row[4] is not None:
            grid.forbid(row[0], row[4])
    return past


def _read_profiles(workshop: Workshop, reviewers: list[int], default_max: int, default_min: int):
    """(max loads, min loads, expertise texts, topics) per reviewer, defaults where none was set."""
    max_loads = dict.fromkeys(reviewers, default_max)
    min_loads = dict.fromkeys(reviewers, default_min)
    expertise: dict[int, str] = {}
    for uid, max_load, min_load, text in ReviewerProfile.objects.filter(
        workshop=workshop, user_id__in=reviewers
    ).values_list("user_id", "max_load", "min_load", "expertise"):
        if max_load is not None:
            max_loads[uid] = max_load
        if min_load is not None:
            min_loads[uid] = min_load
        expertise[uid] = text or ""
    reviewer_topics: dict[int, set] = {}
    for uid, topic in ReviewerProfile.topics.through.objects.filter(
        reviewerprofile__workshop=workshop
    ).values_list("reviewerprofile__user_id", "topic_id"):
        reviewer_topics.setdefault(uid, set()).add(topic)
    return max_loads, min_loads, expertise, reviewer_topics


def _paper_topics(workshop: Workshop) -> dict[int, set]:
    paper_topics: dict[int, set] = {}
    for pid, topic in Paper.topics.through.objects.filter(paper__workshop=workshop).values_list(
        "paper_id", "topic_id"
    ):
        paper_topics.setdefault(pid, set()).add(topic)
    return paper_topics


def _fixed_pairs(workshop: Workshop, grid: _Grid) -> tuple[list[tuple[int, int]], int]:
    """Pairs the run keeps (committed ones, and proposals a chair made by hand), and how many of those
    are now in conflict and dropped."""
    fixed, dropped = [], 0
    for pid, uid, state, manual in Assignment.objects.filter(paper__workshop=workshop).values_list(
        "paper_id", "user_id", "state", "manual"
    ):
        if state == Assignment.State.PROPOSED and not manual:
            continue
        i, j = grid.p_index.get(pid), grid.r_index.get(uid)
        if i is None or j is None:
            continue
        if grid.forbidden[i, j]:
            dropped += 1
        else:
            fixed.append((pid, uid))
    return fixed, dropped


def _read_inputs(workshop, default_max, default_min, counter) -> AssignmentInputs:
    t0 = time.perf_counter()
    paper_rows = list(
        Paper.objects.filter(workshop=workshop, status=Paper.Status.SUBMITTED)
        .order_by("number")
        .values_list("id", "number", "title", "abstract", "submitter_id")
    )
    reviewers = sorted(
        set(
            Membership.objects.filter(
                workshop=workshop, role__in=[Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR]
            ).values_list("user_id", flat=True)
        )
    )
    grid = _Grid(papers=[row[0] for row in paper_rows], reviewers=reviewers)
    emails, owner = member_address_owners(user_ids=reviewers)
    _forbid_conflict_rows(workshop, grid)
    bid_pairs = _read_bids(workshop, grid)
    past = _forbid_authors(workshop, grid, owner, paper_rows)
    max_loads, min_loads, expertise, reviewer_topics = _read_profiles(
        workshop, reviewers, default_max, default_min
    )
    paper_topics = _paper_topics(workshop)
    fixed, dropped = _fixed_pairs(workshop, grid)
    config = selectors.review_settings_get(workshop=workshop)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    affinity = affinity_matrix_blocked(
        papers=grid.papers,
        reviewers=reviewers,
        paper_topics=paper_topics,
        reviewer_topics=reviewer_topics,
        paper_texts={row[0]: f"{row[2]}\n{row[3]}" for row in paper_rows},
        reviewer_texts={uid: "\n".join([expertise.get(uid, ""), *past.get(uid, [])]) for uid in reviewers},
        bid_pairs=bid_pairs,
        bid_weight=config.bid_weight,
        topic_weight=config.topic_weight,
        text_weight=config.text_weight,
    )
    return AssignmentInputs(
        papers=grid.papers,
        numbers={row[0]: row[1] for row in paper_rows},
        reviewers=reviewers,
        emails=emails,
        forbidden=grid.forbidden,
        fixed=fixed,
        dropped_in_conflict=dropped,
        max_loads=max_loads,
        min_loads=min_loads,
        affinity=affinity,
        queries=counter["n"],
        timings={"read_s": round(t_read, 2), "affinity_s": round(time.perf_counter() - t0, 2)},
    )


# --- Starting a run ------------------------------------------------------------------------------


def run_options_clean(*, config: ReviewSettings, data: dict) -> dict:
    """The chair's options, checked: k, default minimum and maximum load, balance weight."""

    def number(name, default, low, high, cast=int):
        raw = data.get(name)
        if raw in (None, ""):
            return default
        try:
            value = cast(raw)
        except (TypeError, ValueError):
            raise ValidationError(f"“{raw}” is not a number ({name.replace('_', ' ')}).") from None
        if not low <= value <= high:
            raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be between {low} and {high}.")
        return value

    options = {
        "k": number("k", config.reviewers_per_paper, 1, 20),
        "max_load": number("max_load", config.default_max_load, 0, 500),
        "min_load": number("min_load", config.default_min_load, 0, 500),
        "balance": number("balance", 0.0, 0.0, 10.0, float),
    }
    if options["min_load"] > options["max_load"]:
        raise ValidationError("The minimum load cannot exceed the maximum load.")
    return options


def run_options_remember(*, config: ReviewSettings, options: dict) -> None:
    """The chair's k and default loads become the edition's settings (the preview checks against them)."""
    config.reviewers_per_paper = options["k"]
    config.default_max_load = options["max_load"]
    config.default_min_load = options["min_load"]
    config.save(update_fields=["reviewers_per_paper", "default_max_load", "default_min_load"])


def reviewer_loads_set(*, workshop: Workshop, text: str) -> int:
    """Sets per-reviewer minimum and maximum loads from lines `address, minimum, maximum` (an empty
    value: the run's default). Reviewers not listed get the defaults back. All or nothing: any bad line
    raises ValidationError naming it, and nothing is changed."""
    members = dict(
        Membership.objects.filter(
            workshop=workshop, role__in=[Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR]
        ).values_list("user__email", "user_id")
    )
    members = {e.lower(): uid for e, uid in members.items() if e}
    wanted: dict[int, tuple] = {}
    errors = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace(";", ",").split(",")]
        parts += [""] * (3 - len(parts))
        email, low, high = parts[0].lower(), parts[1], parts[2]
        if len(parts) > 3 or email not in members:
            errors.append(
                f"Line {n}: “{line.strip()}” is not “address, minimum, maximum” of a committee member."
            )
            continue
        try:
            lo = int(low) if low else None
            hi = int(high) if high else None
        except ValueError:
            errors.append(f"Line {n}: the loads must be whole numbers (“{line.strip()}”).")
            continue
        if (lo is not None and not 0 <= lo <= 500) or (hi is not None and not 0 <= hi <= 500):
            errors.append(f"Line {n}: loads go from 0 to 500.")
        elif lo is not None and hi is not None and lo > hi:
            errors.append(f"Line {n}: the minimum ({lo}) exceeds the maximum ({hi}).")
        else:
            wanted[members[email]] = (lo, hi)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = {rp.user_id: rp for rp in ReviewerProfile.objects.filter(workshop=workshop)}
        ReviewerProfile.objects.bulk_create(
            [ReviewerProfile(workshop=workshop, user_id=uid) for uid in wanted if uid not in existing]
        )
        profiles = list(ReviewerProfile.objects.filter(workshop=workshop))
        for rp in profiles:
            rp.min_load, rp.max_load = wanted.get(rp.user_id, (None, None))
        ReviewerProfile.objects.bulk_update(profiles, ["min_load", "max_load"], batch_size=1000)
    return len(wanted)


def assignment_run_start(*, workshop: Workshop, user, options: dict) -> AssignmentRun:
    """Queues a run (its task message commits with it). Refused while another run of the edition is
    queued or running."""
    assignment_runs_sweep(workshop=workshop)
    active = AssignmentRun.objects.filter(workshop=workshop, state__in=AssignmentRun.ACTIVE).first()
    if active is not None:
        raise ValidationError(
            f"An assignment run is already {active.get_state_display().lower()} for this edition "
            f"(run {active.pk}): wait for it to finish."
        )
    try:
        with transaction.atomic():
            run_options_remember(config=review_settings_ensure(workshop=workshop), options=options)
            run = AssignmentRun.objects.create(
                workshop=workshop,
                options=options,
                created_by=user,
                stage="waiting for a worker",
                deadline=timezone.now() + timedelta(seconds=queue_timeout_s()),
            )
            dispatch(RUN_TASK, args=[run.pk], queue="scoring", ref=ref_for(run))
    except IntegrityError:
        raise ValidationError("An assignment run was started for this edition a moment ago.") from None
    return run


# --- Running it (the task) -----------------------------------------------------------------------


class _Heartbeat(threading.Thread):
    """Touches `heartbeat_at` every few seconds from its own database connection while the solver
    (one long C++ call) holds the task's thread."""

    def __init__(self, run_id: int):
        super().__init__(daemon=True, name=f"assignment-run-{run_id}-heartbeat")
        self.run_id = run_id
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.wait(heartbeat_every_s()):
                AssignmentRun.objects.filter(pk=self.run_id, state=AssignmentRun.State.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()


def _progress(run_id: int, stage: str, percent: int) -> None:
    AssignmentRun.objects.filter(pk=run_id, state=AssignmentRun.State.RUNNING).update(
        stage=stage[:200], progress=max(0, min(100, percent)), heartbeat_at=timezone.now()
    )


def _claim(run_id: int) -> AssignmentRun | None:
    now = timezone.now()
    with transaction.atomic():
        run = AssignmentRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state not in AssignmentRun.ACTIVE:
            return None  # finished, failed or swept: a redelivered message does nothing
        if run.attempts >= MAX_ATTEMPTS:
            _fail(run, f"The computation stopped {run.attempts} times (its worker died); not retried.")
            return None
        run.state = AssignmentRun.State.RUNNING
        run.attempts += 1
        run.started_at = run.heartbeat_at = now
        run.deadline = now + timedelta(seconds=time_limit_s())
        run.stage, run.progress, run.error = "reading conflicts, loads and bids", 2, ""
        run.save()
    return run


def _fail(run: AssignmentRun, reason: str) -> None:
    run.state = AssignmentRun.State.FAILED
    run.error = reason
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "error", "finished_at"])


def assignment_run_execute(*, run_id: int) -> AssignmentRun | None:
    """The task's work: compute the run and store its proposal. Idempotent: a run that is not queued
    or running is left alone; an error fails the run with its reason (nothing else is changed)."""
    run = _claim(run_id)
    if run is None:
        return AssignmentRun.objects.filter(pk=run_id).first()
    attempt = run.attempts
    beat = _Heartbeat(run.pk)
    beat.start()
    try:
        summary, proposal = _compute(run)
    except ValidationError as exc:
        return _finish_failed(run.pk, attempt, " ".join(exc.messages))
    except Exception as exc:  # noqa: BLE001 - any failure is the run's verdict, shown to the chair
        return _finish_failed(run.pk, attempt, f"The computation failed: {type(exc).__name__}: {exc}")
    finally:
        beat.stop.set()
        beat.join(timeout=10)
    return _store(run.pk, attempt, summary, proposal)


def _finish_failed(run_id: int, attempt: int, reason: str) -> AssignmentRun | None:
    with transaction.atomic():
        run = AssignmentRun.objects.select_for_update().filter(pk=run_id).first()
        if run is not None and run.state == AssignmentRun.State.RUNNING and run.attempts == attempt:
            _fail(run, reason)
    return run


def _compute(run: AssignmentRun) -> tuple[dict, list]:
    workshop = run.workshop
    options = run.options
    t_start, c_start = time.perf_counter(), time.process_time()
    inputs = assignment_inputs(
        workshop=workshop, default_max=options["max_load"], default_min=options["min_load"]
    )
    if not inputs.papers:
        raise ValidationError("No submitted paper to assign.")
    if not inputs.reviewers:
        raise ValidationError("The committee has no reviewers yet: invite some first.")
    _progress(run.pk, "solving the min-cost flow", 20)

    def progress(stage: str, fraction: float) -> None:
        _progress(run.pk, stage, 20 + int(fraction * 65))

    result = assignment_solve(
        papers=inputs.papers,
        reviewers=inputs.reviewers,
        k=options["k"],
        loads=inputs.max_loads,
        min_loads=inputs.min_loads,
        affinity=inputs.affinity,
        forbidden=inputs.forbidden,
        fixed=inputs.fixed,
        balance=options.get("balance", 0.0),
        progress=progress,
    )
    _progress(run.pk, "saving the proposal", 88)
    summary = _run_summary(inputs, result, options)
    summary["seconds"] = round(time.perf_counter() - t_start, 2)
    summary["cpu_seconds"] = round(time.process_time() - c_start, 2)
    summary.update(inputs.timings)
    return summary, _proposal(inputs, result)


def _proposal(inputs: AssignmentInputs, result) -> list[list]:
    """The run's new pairs as [paper id, user id, affinity]."""
    p_index = {pid: i for i, pid in enumerate(inputs.papers)}
    r_index = {uid: j for j, uid in enumerate(inputs.reviewers)}
    return [
        [pid, uid, round(float(inputs.affinity[p_index[pid], r_index[uid]]), 4)]
        for pid, uid in result.new_pairs
    ]


def _run_summary(inputs: AssignmentInputs, result, options: dict) -> dict:
    """What the chair's pages show of a run: counts, optimality, loads, shortfalls, diagnosis."""
    numbers = inputs.numbers
    over = [
        inputs.emails.get(uid, str(uid))
        for uid in inputs.reviewers
        if result.loads.get(uid, 0) > inputs.max_loads[uid]
    ]
    return {
        "feasible": result.feasible,
        "k": options["k"],
        "papers": len(inputs.papers),
        "reviewers": len(inputs.reviewers),
        "new_pairs": len(result.new_pairs),
        "kept_pairs": len(inputs.fixed),
        "committed_in_conflict": inputs.dropped_in_conflict,
        "total_affinity": round(result.total_affinity, 4),
        "total_scaled": result.total_scaled,
        "optimality": result.optimality,
        "precision": 1 / result.scale,
        "decimals": len(str(result.scale)) - 1,
        # Each rounded affinity is within 0.5/scale of the true one: two assignments of n pairs differ
        # by at most n/scale between their rounded and true totals.
        "rounding_bound": round(len(result.new_pairs) / result.scale, 4),
        "balance": options.get("balance", 0.0),
        "min_load": options["min_load"],
        "max_load": options["max_load"],
        "allowed_pairs": result.allowed_pairs,
        "edges": result.edges,
        "rounds": result.rounds,
        "below_min": len(result.below_min),
        "below_min_examples": [inputs.emails.get(uid, str(uid)) for uid, _, _ in result.below_min[:20]],
        "over_capacity": over[:20],
        "short_papers": [numbers[s.paper] for s in result.shortfalls],
        "diagnosis": _diagnosis_with_numbers(result.diagnosis(), numbers),
        "queries": inputs.queries,
    }


def _diagnosis_with_numbers(lines: list[str], numbers: dict[int, int]) -> list[str]:
    out = []
    for line in lines:
        line = re.sub(r"^Paper (\d+)", lambda m: f"Paper #{numbers[int(m.group(1))]}", line)
        line = re.sub(
            r"Papers ([\d, ]+) compete",
            lambda m: (
                "Papers " + ", ".join(f"#{numbers[int(x)]}" for x in m.group(1).split(", ")) + " compete"
            ),
            line,
        )
        out.append(line)
    return out


def _store(run_id: int, attempt: int, summary: dict, proposal: list) -> AssignmentRun | None:
    """Replaces the edition's generated proposals by the run's, if the run is still this attempt's."""
    now = timezone.now()
    with transaction.atomic():
        run = AssignmentRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state != AssignmentRun.State.RUNNING or run.attempts != attempt:
            return run  # swept or taken over meanwhile: its verdict stands
        Assignment.objects.filter(
            paper__workshop=run.workshop, state=Assignment.State.PROPOSED, manual=False
        ).delete()
        Assignment.objects.bulk_create(
            [Assignment(paper_id=p, user_id=u, affinity=a) for p, u, a in proposal],
            batch_size=5000,
            ignore_conflicts=True,
        )
        run.state = AssignmentRun.State.DONE
        run.summary, run.proposal = summary, proposal
        run.stage, run.progress, run.finished_at = "done", 100, now
        run.save()
        config = review_settings_ensure(workshop=run.workshop)
        config.last_run = {**summary, "at": now.isoformat(), "run": run.pk}
        config.save(update_fields=["last_run"])
    return run


# --- Dead runs -----------------------------------------------------------------------------------


def assignment_runs_sweep(*, workshop: Workshop | None = None, now=None) -> int:
    """Marks failed the runs whose worker vanished: queued and never picked up, silent while running,
    or past their deadline. Returns how many."""
    now = now or timezone.now()
    runs = AssignmentRun.objects.filter(state__in=AssignmentRun.ACTIVE)
    if workshop is not None:
        runs = runs.filter(workshop=workshop)
    swept = 0
    for run_id in list(runs.values_list("pk", flat=True)):
        with transaction.atomic():
            run = AssignmentRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
            if run is None or run.state not in AssignmentRun.ACTIVE:
                continue
            reason = ""
            queued_for = (now - run.created_at).total_seconds()
            if run.state == AssignmentRun.State.QUEUED and queued_for > queue_timeout_s():
                reason = (
                    f"No worker picked the run up within {int(queue_timeout_s() // 60)} minutes: "
                    "is a Celery worker consuming the “scoring” queue running?"
                )
            elif run.state == AssignmentRun.State.RUNNING:
                silent = (now - (run.heartbeat_at or run.started_at or run.created_at)).total_seconds()
                if silent > stale_after_s():
                    reason = (
                        f"The worker computing the run stopped answering ({int(silent)} s without a sign "
                        "of life): it was probably restarted or killed. Start a new run."
                    )
                elif run.deadline and now > run.deadline:
                    reason = f"The run took longer than its limit of {int(time_limit_s())} s."
            if reason:
                _fail(run, reason)
                swept += 1
    return swept


# --- Commit --------------------------------------------------------------------------------------


def assignments_commit(*, workshop: Workshop, fingerprint: str | None = None, user=None) -> int:
    """Commits every proposed pair in bulk: numbers the reviewers per paper ("Reviewer n" after the
    committed ones), drops pairs now in conflict, marks the latest done run committed, and queues one
    e-mail per reviewer. With `fingerprint`, refuses if the proposal changed since it was shown."""
    if AssignmentRun.objects.filter(workshop=workshop, state__in=AssignmentRun.ACTIVE).exists():
        raise ValidationError("An assignment run is in progress: wait for it before committing.")
    now = timezone.now()
    with transaction.atomic():
        proposed = list(
            Assignment.objects.select_for_update()
            .filter(paper__workshop=workshop, state=Assignment.State.PROPOSED)
            .order_by("paper_id", "-affinity", "id")
            .only("id", "paper_id", "user_id")
        )
        if fingerprint is not None and fingerprint != assignment_commit_fingerprint(workshop=workshop):
            raise ValidationError(
                "The proposed assignment changed since this page was opened: check the counts again."
            )
        forbidden = assignment_pairs_forbidden(
            workshop=workshop,
            paper_ids={a.paper_id for a in proposed},
            user_ids={a.user_id for a in proposed},
        )
        drop = [a.pk for a in proposed if (a.paper_id, a.user_id) in forbidden]
        if drop:
            Assignment.objects.filter(pk__in=drop).delete()
        keep = [a for a in proposed if (a.paper_id, a.user_id) not in forbidden]
        by_user = _commit_numbered(keep, now)
        run = _run_mark_committed(workshop, committed=len(keep), now=now)
        _commit_mails_queue(workshop, by_user, run)
    return len(keep)


def _commit_numbered(keep: list[Assignment], now) -> dict[int, list[int]]:
    """Commits the kept rows, numbered per paper after the committed ones ("Reviewer n"); returns each
    reviewer's new paper ids."""
    top = dict(
        Assignment.objects.filter(paper_id__in={a.paper_id for a in keep}, number__isnull=False)
        .values("paper_id")
        .annotate(n=Max("number"))
        .values_list("paper_id", "n")
    )
    by_user: dict[int, list[int]] = {}
    by_number: dict[int, list[int]] = {}
    for a in keep:
        top[a.paper_id] = top.get(a.paper_id, 0) + 1
        by_number.setdefault(top[a.paper_id], []).append(a.pk)
        by_user.setdefault(a.user_id, []).append(a.paper_id)
    # Bulk: one UPDATE per reviewer number ("Reviewer 1", "Reviewer 2"…), a handful in all — cheaper
    # than bulk_update's CASE over every row.
    for number, ids in sorted(by_number.items()):
        for start in range(0, len(ids), 10_000):
            Assignment.objects.filter(pk__in=ids[start : start + 10_000]).update(
                number=number, state=Assignment.State.COMMITTED, committed_at=now
            )
    return by_user


def _run_mark_committed(workshop: Workshop, *, committed: int, now) -> AssignmentRun | None:
    """Marks the latest done run committed (when something was); returns it, or None."""
    run = (
        AssignmentRun.objects.select_for_update()
        .filter(workshop=workshop, state=AssignmentRun.State.DONE)
        .order_by("-created_at", "-id")
        .first()
    )
    if run is not None and committed:
        run.state = AssignmentRun.State.COMMITTED
        run.summary = {**run.summary, "committed": committed, "committed_at": now.isoformat()}
        run.save(update_fields=["state", "summary"])
    return run


def _commit_mails_queue(workshop: Workshop, by_user: dict[int, list[int]], run: AssignmentRun | None) -> None:
    """One e-mail per reviewer, written in bulk to the outbox; one message asks a worker to send them."""
    paper_ids = {pid for pids in by_user.values() for pid in pids}
    titles = dict(Paper.objects.filter(id__in=paper_ids).values_list("id", "title"))
    numbers = dict(Paper.objects.filter(id__in=list(titles)).values_list("id", "number"))
    emails = dict(get_user_model().objects.filter(id__in=list(by_user)).values_list("id", "email"))
    url = absolute_url(reverse("reviewing:home", kwargs={"workshop": workshop.slug}))
    template = get_template("reviewing/mail/assignments_committed.txt")
    mails = OutgoingMail.objects.bulk_create(
        [
            OutgoingMail(
                to=[emails[uid]],
                subject=f"[{workshop.short_name}] {len(pids)} paper(s) assigned to you",
                body=template.render(
                    {"papers": [(numbers[p], titles[p]) for p in sorted(pids, key=numbers.get)], "url": url}
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
            )
            for uid, pids in by_user.items()
            if emails.get(uid)
        ],
        batch_size=1000,
    )
    rows = Dispatch.objects.bulk_create(
        [
            Dispatch(
                task="conference.send_outgoing_mail",
                args=[m.pk],
                queue="default",
                ref=f"conference.outgoingmail:{m.pk}",
            )
            for m in mails
        ],
        batch_size=1000,
    )
    if rows:
        dispatch(
            MAIL_TASK,
            args=[[r.pk for r in rows]],
            queue="default",
            ref=ref_for(run) if run is not None else "",
        )


def assignment_mails_send(*, dispatch_ids: list[int]) -> dict:
    """Hands the commit's e-mail messages to the broker (in a worker, not in the chair's request)."""
    return dispatch_send(ids=dispatch_ids, limit=len(dispatch_ids))
