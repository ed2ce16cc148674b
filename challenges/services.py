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
    base = settings.SITE_URL
    mail_enqueue(
        to=[email],
        subject=f"[{challenge.title}] Join the team “{team.name}”",
        body=(
            f"{by.email} invites you to the team “{team.name}” of the {challenge.title} challenge "
            f"({challenge.workshop.short_name}).\n\nAccept: {base}{url}\n\n"
            f"Or register for the challenge and enter the join code: {team.join_code}\n"
        ),
    )
    return invitation


@transaction.atomic
def team_invitation_accept(*, token: str, user, now: dt.datetime | None = None) -> Team:
    invitation = TeamInvitation.objects.select_related("team__challenge").filter(token=token).first()
    if invitation is None:
        raise ChallengeError("This invitation link is not valid.")
    if invitation.accepted_at:
        raise ChallengeError("This invitation has already been used.")
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
    """Checks the phase, the team, the limits and the file; stores it; queues scoring after commit."""
    now = now or timezone.now()
    _require_participant(challenge, user)
    tl = selectors.timeline_for(challenge)
    if not timeline.accepts_submissions(tl, timeline.Phase.VALIDATION, now):
        raise ChallengeError("The validation phase is not open: submissions are not accepted now.")
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
        scoring.check_upload(
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
    from .tasks import score_submission

    transaction.on_commit(lambda: score_submission.delay(submission.pk))
    return submission


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
    challenge = submission.challenge
    try:
        gt = ground_truth_for(challenge)
        if gt is None:
            raise scoring.ScoringError("The validation ground truth is missing; the organisers were told.")
        with gt.file.open("rb") as f:
            ground_truth = f.read()
        with submission.file.open("rb") as f:
            data = f.read()
        result = scoring.score(
            result_format=challenge.result_format,
            submission=data,
            ground_truth=ground_truth,
            max_uncompressed=challenge.max_uncompressed_mb * 1024 * 1024,
        )
    except scoring.ScoringError as exc:
        return _finish(submission, status=Submission.Status.FAILED, error=str(exc))
    except Exception:  # noqa: BLE001 - an unexpected failure must not leave the submission stuck
        log.exception("scoring submission %s failed", submission.pk)
        return _finish(
            submission,
            status=Submission.Status.FAILED,
            error="Scoring failed because of an internal error; this does not count "
            "against your limits. The organisers were told.",
        )
    return _finish(submission, status=Submission.Status.DONE, scores=result.scores, per_file=result.per_file)


def _finish(
    submission: Submission, *, status: str, error: str = "", scores=None, per_file=None
) -> Submission:
    submission.status = status
    submission.error = error
    submission.scores = scores or {}
    submission.per_file = per_file or []
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "error", "scores", "per_file", "finished_at"])
    return submission


STALE_QUEUED = dt.timedelta(minutes=2)
STALE_SCORING = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3


def submission_requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Nothing stays "queued" or "scoring" forever: a submission queued for 2 minutes without a worker
    picking it up is queued again; one scoring for 10 minutes (its worker died) is queued again, up to
    3 runs, then failed with a reason (failed scorings do not count against the limits)."""
    from .tasks import score_submission

    now = now or timezone.now()
    requeued = []
    with transaction.atomic():
        stale = Submission.objects.select_for_update(skip_locked=True).filter(
            models.Q(
                status=Submission.Status.QUEUED, created_at__lt=now - STALE_QUEUED, started_at__isnull=True
            )
            | models.Q(status=Submission.Status.QUEUED, started_at__lt=now - STALE_QUEUED)
            | models.Q(status=Submission.Status.SCORING, started_at__lt=now - STALE_SCORING)
        )
        for sub in stale:
            if sub.attempts >= MAX_ATTEMPTS:
                _finish(
                    sub,
                    status=Submission.Status.FAILED,
                    error=f"Scoring did not finish after {sub.attempts} attempts; this does not count "
                    "against your limits. The organisers were told.",
                )
                continue
            sub.status = Submission.Status.QUEUED
            sub.started_at = now  # marks when it was queued again
            sub.save(update_fields=["status", "started_at"])
            requeued.append(sub.pk)
            transaction.on_commit(lambda pk=sub.pk: score_submission.delay(pk))
    return requeued
