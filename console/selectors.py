"""Reads of the console (keyword-only, never writing): the editions a user chairs, the chair's
dashboard, the dates editor's rows, role invitations, the edition's part of the mail outbox."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from challenges.finalphase.models import FinalPhaseSettings, ModelSubmission
from challenges.models import Challenge, DataFile, Milestone, Submission, Team
from conference.models import ImportantDate, Membership, OutgoingMail, Paper, Workshop
from conference.reviewing import selectors as reviewing_selectors
from conference.reviewing.models import Conflict
from conference.templatetags.workshop_time import format_in_zone
from evaluation.models import DeviceHost

from .models import DateChangeLog, RoleInvitation

EMAIL_ADDRESS = re.compile(r"[^\s<>()\[\]{}'\",;:]+@[^\s<>()\[\]{}'\",;:]+")


def workshop_for_console(*, slug: str) -> Workshop:
    """The edition by its slug, public or not (its chairs prepare it before it is shown)."""
    workshop = Workshop.objects.filter(slug=slug).first()
    if workshop is None:
        raise Http404("No such workshop edition.")
    return workshop


def editions_chaired(*, user) -> QuerySet[Workshop]:
    """The editions a user may run from the console: those they chair; every one for a superuser."""
    if user.is_superuser:
        return Workshop.objects.all()
    return reviewing_selectors.workshops_chaired(user=user)


def edition_list_for_cloning(*, user) -> QuerySet[Workshop]:
    """Editions a new one may be cloned from: the same as those the user chairs."""
    return editions_chaired(user=user).order_by("-start_date", "short_name")


def slug_taken(*, slug: str) -> bool:
    return Workshop.objects.filter(slug=slug).exists()


@dataclass
class ClonePreview:
    """What cloning `source` copies and leaves behind, counted for the confirmation page."""

    topics: int
    organisers: int
    dates: int
    tracks: int
    milestones: int
    external_data_files: int
    uploaded_data_files_left: int
    papers_left: int
    teams_left: int
    submissions_left: int
    invitations: int


def clone_preview(*, source: Workshop, reinvite_committee: bool, by) -> ClonePreview:
    data_files = DataFile.objects.filter(challenge__workshop=source)
    external = data_files.exclude(external_url="").filter(file="").count()
    return ClonePreview(
        topics=source.topics.count(),
        organisers=source.organisers.count(),
        dates=source.dates.count(),
        tracks=Challenge.objects.filter(workshop=source).count(),
        milestones=Milestone.objects.filter(challenge__workshop=source).count(),
        external_data_files=external,
        uploaded_data_files_left=data_files.count() - external,
        papers_left=Paper.objects.filter(workshop=source).count(),
        teams_left=Team.objects.filter(challenge__workshop=source).count(),
        submissions_left=Submission.objects.filter(challenge__workshop=source).count()
        + ModelSubmission.objects.filter(challenge__workshop=source).count(),
        invitations=Membership.objects.filter(workshop=source)
        .exclude(user=by)
        .exclude(user__email="")
        .count()
        if reinvite_committee
        else 0,
    )


# --- Dashboard ---------------------------------------------------------------------------------


@dataclass
class ReviewOverview:
    papers_under_review: int = 0
    reviews_assigned: int = 0
    reviews_submitted: int = 0
    reviews_draft: int = 0
    late_reviewers: list = field(default_factory=list)  # [(user, Progress)]
    overdue: bool = False
    deadline: datetime.datetime | None = None


def papers_by_status(*, workshop: Workshop) -> list[tuple[str, str, int]]:
    """(status, label, count) for every paper status, zero counts included."""
    counts = dict(
        Paper.objects.filter(workshop=workshop)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [(value, label, counts.get(value, 0)) for value, label in Paper.Status.choices]


def review_overview(*, workshop: Workshop, user, now) -> ReviewOverview:
    """Review progress over the papers the chair may see (conflicted ones left out, as on the
    reviewing home), and the reviewers late after the review deadline."""
    papers, reviewers = reviewing_selectors.review_progress(workshop=workshop, user=user, now=now)
    overview = ReviewOverview(papers_under_review=len(papers))
    for _paper, progress in papers:
        overview.reviews_assigned += progress.assigned
        overview.reviews_submitted += progress.submitted
        overview.reviews_draft += progress.draft
    overview.late_reviewers = [(u, p) for u, p in reviewers if p.late]
    deadline = reviewing_selectors.review_settings_get(workshop=workshop).review_deadline
    overview.deadline = deadline
    overview.overdue = deadline is not None and now > deadline
    return overview


def conflicts_to_decide_count(*, workshop: Workshop, user) -> int:
    return reviewing_selectors.conflict_list_for_chair(
        workshop=workshop, user=user, state=Conflict.State.SUGGESTED
    ).count()


def decisions_pending_count(*, workshop: Workshop) -> tuple[int, int]:
    """(papers under review without a decision, decisions recorded but not released)."""
    undecided = (
        reviewing_selectors.papers_under_review(workshop=workshop)
        .filter(status=Paper.Status.SUBMITTED, decision__isnull=True)
        .count()
    )
    return undecided, len(reviewing_selectors.decisions_pending(workshop=workshop))


def mail_subject_prefix(*, workshop: Workshop) -> str:
    """Every message about an edition starts its subject with "[short name]"."""
    return f"[{workshop.short_name}]"


def outbox_of_workshop(*, workshop: Workshop) -> QuerySet[OutgoingMail]:
    """The edition's messages: subjects starting "[short name]" (committee, reminders, decisions) or
    "[short name #n]" (a paper's messages). Messages about a track start with the track's title,
    which cloned editions share: they are not counted here."""
    prefix = mail_subject_prefix(workshop=workshop)
    return OutgoingMail.objects.filter(
        Q(subject__startswith=prefix) | Q(subject__startswith=f"{prefix[:-1]} #")
    )


def outbox_counts(*, workshop: Workshop) -> dict[str, int]:
    counts = dict(outbox_of_workshop(workshop=workshop).values_list("state").annotate(n=Count("id")))
    return {value: counts.get(value, 0) for value in OutgoingMail.State.values}


def outbox_failures(*, workshop: Workshop, limit: int = 50) -> list[OutgoingMail]:
    """The edition's failed messages, newest first (subject, error, time; recipients are not shown on
    the chair's page: they tell who reviews which paper). `error_shown` is the error with every
    e-mail address in it hidden (SMTP errors name the refused recipient)."""
    mails = list(
        outbox_of_workshop(workshop=workshop)
        .filter(state=OutgoingMail.State.FAILED)
        .only("id", "subject", "error", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )
    for mail in mails:
        mail.error_shown = EMAIL_ADDRESS.sub("(address hidden)", mail.error)
    return mails


# --- Dates --------------------------------------------------------------------------------------


def important_dates(*, workshop: Workshop) -> list[ImportantDate]:
    return list(ImportantDate.objects.filter(workshop=workshop).order_by("at", "id"))


def dates_in_another_zone(*, workshop: Workshop, zone_key: str) -> list[tuple[str, str, str]]:
    """(title, as shown now, as shown in `zone_key`) for every important date and track milestone:
    what a change of the edition's time zone does to how its dates read (the instants stay)."""
    rows = [(d.title, d.at) for d in important_dates(workshop=workshop)]
    milestones = Milestone.objects.filter(challenge__workshop=workshop).select_related("challenge")
    rows += [(str(m), m.at) for m in milestones.order_by("at", "id")]
    return [
        (title, format_in_zone(at, workshop.time_zone), format_in_zone(at, zone_key)) for title, at in rows
    ]


def date_change_log(*, workshop: Workshop, limit: int = 100) -> list[DateChangeLog]:
    return list(DateChangeLog.objects.filter(workshop=workshop).select_related("changed_by__profile")[:limit])


# --- Roles --------------------------------------------------------------------------------------


def role_invitations(*, workshop: Workshop) -> QuerySet[RoleInvitation]:
    return RoleInvitation.objects.filter(workshop=workshop).select_related(
        "workshop", "challenge", "device_host"
    )


def role_invitation_by_token(*, token: str) -> RoleInvitation | None:
    return (
        RoleInvitation.objects.select_related("workshop", "challenge", "device_host")
        .filter(token=token)
        .first()
    )


def role_invitation_get(*, workshop: Workshop, pk) -> RoleInvitation | None:
    if not str(pk).isdecimal():
        return None
    return role_invitations(workshop=workshop).filter(pk=pk).first()


def challenges_of(*, workshop: Workshop) -> QuerySet[Challenge]:
    return Challenge.objects.filter(workshop=workshop).order_by("order", "id")


def device_hosts_for(*, workshop: Workshop, user) -> QuerySet[DeviceHost]:
    """Hosts a chair may invite operators to: those driving a device the edition's tracks measure on
    (their final-phase device) and no other edition's track does — a chair cannot reach a host that
    other editions depend on by pointing a track at its device. Every host for a superuser."""
    if user.is_superuser:
        return DeviceHost.objects.order_by("name")
    ours = FinalPhaseSettings.objects.filter(challenge__workshop=workshop).values_list(
        "device_slug", flat=True
    )
    others = FinalPhaseSettings.objects.exclude(challenge__workshop=workshop).values_list(
        "device_slug", flat=True
    )
    return (
        DeviceHost.objects.filter(devices__slug__in=list(ours))
        .exclude(devices__slug__in=list(others))
        .distinct()
        .order_by("name")
    )


def chairs_of(*, workshop: Workshop) -> QuerySet[Membership]:
    return Membership.objects.filter(workshop=workshop, role=Membership.Role.CHAIR).select_related(
        "user__profile"
    )
