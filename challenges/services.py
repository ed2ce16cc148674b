"""Writes of the challenge side: registration, teams, data files, validation submissions and their scoring.

Every function is keyword-only, runs in a transaction and raises `ChallengeError` (a Django
`ValidationError`) with a message for the user when a rule forbids the action; nothing is stored then.
Time gates come from `challenges.timeline`, evaluated at `now` (defaults to the clock).
"""

import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from common.urls import absolute_url
from conference.mail import mail_enqueue

from . import scoring, selectors, timeline
from .models import Challenge, DataFile, Registration, Submission, Team, TeamInvitation, TeamMembership

log = logging.getLogger(__name__)


class ChallengeError(ValidationError):
    """A rule of the challenge forbids the action; the message is for the user."""


# --- Registration ---------------------------------------------------------------------------------


@transaction.atomic
def challenge_register(
    *, challenge: Challenge, user, accept_terms: bool, now: dt.datetime | None = None
) -> Registration:
    now = now or timezone.now()
    if not timeline.registration_open(selectors.timeline_for(challenge), now):
        raise ChallengeError("Registration for this challenge is closed.")
    if not accept_terms:
        raise ChallengeError("You must accept the terms of participation to register.")
    registration, created = Registration.objects.get_or_create(
        challenge=challenge,
        user=user,
        defaults={
            "accepted_terms_at": now,
            "approved": not challenge.requires_approval,
            "approved_at": None if challenge.requires_approval else now,
        },
    )
    if created and challenge.requires_approval:
        organisers = [u.email for u in challenge.organisers.all() if u.email]
        if organisers:
            mail_enqueue(
                to=organisers,
                subject=f"[{challenge.title}] Registration to approve",
                body=f"{user.email} registered for {challenge.title} and awaits your approval.",
            )
    return registration


@transaction.atomic
def registration_approve(*, registration: Registration, approved: bool = True) -> Registration:
    registration.approved = approved
    registration.approved_at = timezone.now() if approved else None
    registration.save(update_fields=["approved", "approved_at"])
    if approved and registration.user.email:
        challenge = registration.challenge
        mail_enqueue(
            to=[registration.user.email],
            subject=f"[{challenge.title}] Registration approved",
            body=f"Your registration for {challenge.title} was approved. You can now form a team, "
            "download the data and submit results.",
        )
    return registration


def _require_participant(challenge: Challenge, user) -> Registration:
    registration = selectors.registration_for(user, challenge)
    if registration is None:
        raise ChallengeError("Register for this challenge first.")
    if not registration.approved:
        raise ChallengeError("Your registration awaits the organisers' approval.")
    return registration


def _require_teams_editable(challenge: Challenge, now: dt.datetime) -> None:
    if not timeline.teams_editable(selectors.timeline_for(challenge), now):
        raise ChallengeError("Teams can no longer be changed: the final deadline has passed.")


# --- Teams ----------------------------------------------------------------------------------------


@transaction.atomic
def team_create(*, challenge: Challenge, user, name: str, now: dt.datetime | None = None) -> Team:
    now = now or timezone.now()
    _require_participant(challenge, user)
    _require_teams_editable(challenge, now)
    name = " ".join((name or "").split())
    if not (2 <= len(name) <= 80):
        raise ChallengeError("A team name has 2 to 80 characters.")
    if selectors.team_for(user, challenge):
        raise ChallengeError("You are already in a team of this challenge; leave it first.")
    if Team.objects.filter(challenge=challenge, name__iexact=name).exists():
        raise ChallengeError(f"A team named “{name}” already exists in this challenge.")
    try:
        with transaction.atomic():
            team = Team.objects.create(challenge=challenge, name=name, created_by=user)
            TeamMembership.objects.create(
                team=team, challenge=challenge, user=user, role=TeamMembership.Role.LEADER
            )
    except IntegrityError:
        raise ChallengeError(f"A team named “{name}” already exists in this challenge.")
    return team


def _join(team: Team, user, now: dt.datetime) -> TeamMembership:
    challenge = team.challenge
    _require_participant(challenge, user)
    _require_teams_editable(challenge, now)
    current = selectors.team_for(user, challenge)
    if current == team:
        raise ChallengeError(f"You are already in “{team.name}”.")
    if current:
        raise ChallengeError(f"You are already in the team “{current.name}”; leave it first.")
    Team.objects.select_for_update().get(pk=team.pk)  # serialise joins: the size limit holds
    if team.memberships.count() >= challenge.max_team_size:
        raise ChallengeError(f"“{team.name}” is full ({challenge.max_team_size} members at most).")
    return TeamMembership.objects.create(team=team, challenge=challenge, user=user)


@transaction.atomic
def team_join(*, challenge: Challenge, user, code: str, now: dt.datetime | None = None) -> Team:
    team = Team.objects.filter(challenge=challenge, join_code=(code or "").strip()).first()
    if team is None:
        raise ChallengeError("No team of this challenge has that join code.")
    _join(team, user, now or timezone.now())
    return team


@transaction.atomic
def team_invite(*, team: Team, by, email: str, now: dt.datetime | None = None) -> TeamInvitation:
    now = now or timezone.now()
    if not team.memberships.filter(user=by).exists():
        raise ChallengeError("Only members of the team can invite.")
    _require_teams_editable(team.challenge, now)
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ChallengeError("Enter an e-mail address.")
    if team.memberships.count() >= team.challenge.max_team_size:
        raise ChallengeError(f"“{team.name}” is full ({team.challenge.max_team_size} members at most).")
    invitation = TeamInvitation.objects.create(team=team, email=email, invited_by=by)
    challenge = team.challenge
    url = reverse(
        "challenges:invitation",
        kwargs={"workshop": challenge.workshop.slug, "challenge": challenge.slug, "token": invitation.token},
    )
    mail_enqueue(
        to=[email],
        subject=f"[{challenge.title}] Join the team “{team.name}”",
        body=(
            f"{by.email} invites you to the team “{team.name}” of the {challenge.title} challenge "
            f"({challenge.workshop.short_name}).\n\nAccept: {absolute_url(url)}\n\n"
            f"Or register for the challenge and enter the join code: {team.join_code}\n"
        ),
    )
    return invitation


@transaction.atomic
def team_invitation_accept(*, token: str, user, now: dt.datetime | None = None) -> Team:
    invitation = (
        TeamInvitation.objects.select_for_update(of=("self",))
        .select_related("team__challenge")
        .filter(token=token)
        .first()
    )  # locked: two accepts of one link cannot both pass the "used" check
    if invitation is None:
        raise ChallengeError("This invitation link is not valid.")
    if invitation.accepted_at:
        raise ChallengeError("This invitation has already been used.")
    from allauth.account.models import EmailAddress

    if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
        raise ChallengeError(
            f"This invitation is for {invitation.email}: accept it with an account that has this address, "
            "verified (or ask the team for its join code)."
        )
    _join(invitation.team, user, now or timezone.now())
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return invitation.team


@transaction.atomic
def team_leave(*, challenge: Challenge, user, now: dt.datetime | None = None) -> None:
    _require_teams_editable(challenge, now or timezone.now())
    membership = TeamMembership.objects.filter(challenge=challenge, user=user).select_related("team").first()
    if membership is None:
        raise ChallengeError("You are not in a team of this challenge.")
    team = membership.team
    membership.delete()
    remaining = team.memberships.order_by("joined_at")
    if not remaining.exists() and not team.submissions.exists():
        team.delete()
    elif membership.role == TeamMembership.Role.LEADER and remaining.exists():
        first = remaining.first()
        first.role = TeamMembership.Role.LEADER
        first.save(update_fields=["role"])


# --- Data -----------------------------------------------------------------------------------------


@transaction.atomic
def data_file_create(
    *,
    challenge: Challenge,
    split: str,
    title: str,
    upload=None,
    external_url: str = "",
    description: str = "",
) -> DataFile:
    """Stores an organiser's data file (to private storage) or records an external URL."""
    if split not in DataFile.Split.values:
        raise ChallengeError("Unknown data split.")
    if bool(upload) == bool(external_url):
        raise ChallengeError("Give either a file or an external URL.")
    if split in DataFile.GROUND_TRUTH and external_url:
        raise ChallengeError("Ground truth must be uploaded: it is never linked from outside.")
    data_file = DataFile(
        challenge=challenge,
        split=split,
        title=title or getattr(upload, "name", "data"),
        external_url=external_url,
        description=description,
    )
    if upload:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        if upload.size == 0:
            raise ChallengeError("The file is empty (0 bytes).")
        data_file.size = upload.size
        data_file.sha256 = digest.hexdigest()
        upload.seek(0)
        if split in DataFile.GROUND_TRUTH:
            _check_ground_truth(challenge, upload)
            upload.seek(0)
        data_file.file.save(upload.name, upload, save=False)
    data_file.save()
    return data_file


def _check_ground_truth(challenge: Challenge, upload) -> None:
    """Ground truth that the scorer could not read would fail every submission: refuse it at upload."""
    if upload.size > 4 * 1024**3:
        return  # too large to parse here; the scorer reads it
    try:
        names = scoring.expected_names(result_format=challenge.result_format, ground_truth=upload.read())
    except scoring.ScoringError as exc:
        raise ChallengeError(f"This ground truth cannot be scored against: {exc}")
    if not names:
        raise ChallengeError("This ground truth holds no files.")


# --- Validation submissions -----------------------------------------------------------------------


def ground_truth_for(challenge: Challenge, split: str = DataFile.Split.VALIDATION_GT) -> DataFile | None:
    return (
        DataFile.objects.filter(challenge=challenge, split=split)
        .exclude(file="")
        .order_by("-uploaded_at", "-pk")
        .first()
    )


@transaction.atomic
def submission_create(
    *,
    challenge: Challenge,
    user,
    name: str,
    data: bytes,
    method_name: str = "",
    method_description: str = "",
    now: dt.datetime | None = None,
) -> Submission:
    """Checks the phase, the team, the limits and the file; stores it; queues scoring after commit.

    `now` is the instant the request arrived (`request.arrived_at`): the deadline (plus the challenge's
    grace) is judged on it and it is stored as the submission's time."""
    now = now or timezone.now()
    _require_participant(challenge, user)
    tl = selectors.timeline_for(challenge)
    if not timeline.accepts_submissions(tl, timeline.Phase.VALIDATION, now):
        raise ChallengeError(
            selectors.phase_refusal(challenge=challenge, tl=tl, phase=timeline.Phase.VALIDATION, now=now)
        )
    team = selectors.team_for(user, challenge)
    if team is None:
        raise ChallengeError("Join or create a team first: submissions are made by teams.")
    Team.objects.select_for_update().get(pk=team.pk)  # serialise a team's submissions: limits hold
    limits = selectors.submission_limits(team=team, challenge=challenge, now=now)
    if limits.left_total <= 0:
        raise ChallengeError(f"Your team has used all {limits.total} submissions of this phase.")
    if limits.left_today <= 0:
        raise ChallengeError(
            f"Your team has used all {limits.per_day} submissions for today (the day ends at midnight UTC)."
        )
    gt = ground_truth_for(challenge)
    if gt is None:
        raise ChallengeError("The organisers have not uploaded the validation ground truth yet.")
    try:
        scoring.check_upload_isolated(
            result_format=challenge.result_format,
            name=name,
            data=data,
            max_bytes=challenge.max_upload_mb * 1024 * 1024,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
    except scoring.ScoringError as exc:
        raise ChallengeError(str(exc))
    submission = Submission(
        challenge=challenge,
        team=team,
        submitted_by=user,
        original_name=name[:255],
        size=len(data),
        method_name=method_name[:200],
        method_description=method_description,
    )
    submission.file.save(name, ContentFile(data), save=False)
    submission.save()
    # The stored submission time is the instant the request arrived (the deadline was judged on it),
    # not the moment the row was written (`created_at` is auto_now_add on the model).
    Submission.objects.filter(pk=submission.pk).update(created_at=now)
    submission.created_at = now
    submission_dispatch(submission=submission)
    return submission


SCORE_TASK = "challenges.score_submission"


def submission_dispatch(*, submission: Submission) -> None:
    """Queues the scoring through the dispatch outbox (`common.dispatch`), in the caller's transaction:
    the submission and its message commit together; a broker outage delays the scoring, never loses it
    (the page says "waiting for the queue service" meanwhile)."""
    from common.dispatch import dispatch, ref_for

    dispatch(SCORE_TASK, args=[submission.pk], queue="scoring", ref=ref_for(submission))


@transaction.atomic
def submissions_rescore(*, submission_ids: list[int]) -> int:
    """Scores these submissions again (e.g. after the ground truth was replaced): queued again and
    dispatched through the outbox with their reset, so a broker outage delays them and loses none."""
    count = 0
    for submission in Submission.objects.select_for_update().filter(pk__in=submission_ids):
        submission.status = Submission.Status.QUEUED
        submission.error = ""
        submission.save(update_fields=["status", "error"])
        submission_dispatch(submission=submission)
        count += 1
    return count


def submission_score(*, submission_id: int) -> Submission | None:
    """The scoring state machine: queued/scoring → done (scores, per-file rows) or failed (reason).

    Idempotent: a submission already done or failed is left alone; one found in `scoring` (its worker
    died) is scored again."""
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update()
            .select_related("challenge")
            .filter(pk=submission_id)
            .first()
        )
        if submission is None or submission.is_final_state:
            return submission
        submission.status = Submission.Status.SCORING
        submission.started_at = timezone.now()
        submission.attempts += 1
        submission.save(update_fields=["status", "started_at", "attempts"])
        attempt = submission.attempts
    challenge = submission.challenge
    try:
        gt = ground_truth_for(challenge)
        if gt is None:
            raise scoring.ScoringError("The validation ground truth is missing; the organisers were told.")
        with gt.file.open("rb") as f:
            ground_truth = f.read()
        with submission.file.open("rb") as f:
            data = f.read()
        result = scoring.score_isolated(
            result_format=challenge.result_format,
            submission=data,
            ground_truth=ground_truth,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
    except scoring.ScoringError as exc:
        return _finish(submission, status=Submission.Status.FAILED, error=str(exc), attempt=attempt)
    except Exception:  # noqa: BLE001 - an unexpected failure must not leave the submission stuck
        log.exception("scoring submission %s failed", submission.pk)
        return _finish(
            submission,
            status=Submission.Status.FAILED,
            error="Scoring failed because of an internal error; this does not count "
            "against your limits. The organisers were told.",
            attempt=attempt,
        )
    return _finish(
        submission,
        status=Submission.Status.DONE,
        scores=result.scores,
        per_file=result.per_file,
        attempt=attempt,
    )


def _finish(
    submission: Submission, *, status: str, error: str = "", scores=None, per_file=None, attempt=None
) -> Submission:
    """Records the outcome. With `attempt`, only while that attempt is still the current scoring (a
    result is recorded once: a run that the sweep already replaced, or that ended, changes nothing)."""
    if attempt is not None:
        with transaction.atomic():
            current = (
                Submission.objects.select_for_update()
                .filter(pk=submission.pk)
                .values("status", "attempts")
                .first()
            )
            if current != {"status": Submission.Status.SCORING, "attempts": attempt}:
                log.warning(
                    "submission %s: result of attempt %s discarded (now %s)", submission.pk, attempt, current
                )
                submission.refresh_from_db()
                return submission
            return _finish(submission, status=status, error=error, scores=scores, per_file=per_file)
    submission.status = status
    submission.error = error
    submission.scores = scores or {}
    submission.per_file = per_file or []
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "error", "scores", "per_file", "finished_at"])
    return submission


def submission_requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """The sweep (beat, every BEAT_SWEEP_EVERY_S): nothing stays "queued" or "scoring" forever.

    A submission queued for CHALLENGES_STALE_QUEUED_S after its message was sent (the message was lost)
    or scoring for CHALLENGES_STALE_SCORING_S (its worker died) is dispatched again; after
    CHALLENGES_SCORING_MAX_ATTEMPTS runs or messages it fails with a reason (failed scorings do not count
    against the limits). One whose message still waits in the outbox (broker down) is the dispatcher's.
    Returns the ids dispatched again."""
    from common.dispatch import dispatch_history, ref_for

    now = now or timezone.now()
    stale_queued = dt.timedelta(seconds=float(settings.CHALLENGES_STALE_QUEUED_S))
    stale_scoring = dt.timedelta(seconds=float(settings.CHALLENGES_STALE_SCORING_S))
    max_attempts = int(settings.CHALLENGES_SCORING_MAX_ATTEMPTS)
    requeued = []
    with transaction.atomic():
        stale = Submission.objects.select_for_update(skip_locked=True).filter(
            models.Q(status=Submission.Status.QUEUED, created_at__lt=now - stale_queued)
            | models.Q(status=Submission.Status.SCORING, started_at__lt=now - stale_scoring)
        )
        for sub in stale:
            history = dispatch_history(ref_for(sub), task=SCORE_TASK)
            if history.pending:
                continue  # waiting for the broker: the outbox dispatcher owns it
            if sub.status == Submission.Status.QUEUED:
                last = max(t for t in (history.last_sent_at, sub.started_at, sub.created_at) if t)
                if last > now - stale_queued:
                    continue
            tries = max(sub.attempts, history.count)
            if tries >= max_attempts:
                _finish(
                    sub,
                    status=Submission.Status.FAILED,
                    error=f"Scoring did not finish after {tries} attempts; this does not count "
                    "against your limits. The organisers were told.",
                )
                continue
            sub.status = Submission.Status.QUEUED
            sub.started_at = now  # marks when it was queued again
            sub.save(update_fields=["status", "started_at"])
            submission_dispatch(submission=sub)
            requeued.append(sub.pk)
    return requeued
