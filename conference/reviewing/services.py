"""Writes of the review process, as keyword-only `<entity>_<action>` functions: committee invitations,
conflicts, bids, the assignment run and its commit, reviews, discussion, decisions and their release.

State machines:
- Invitation: pending → accepted (once, by a signed-in account with the invited address verified;
  membership at once) | declined (by anyone with the link) | revoked (by a chair). Re-inviting a
  pending address re-sends the same link; a declined or revoked one gets a fresh link.
- Conflict: suggested (detected) → confirmed | dismissed by a chair; declared ones start confirmed.
  Detection only inserts missing rows, so a chair's decision survives every re-run.
- Assignment: proposed (the chair's preview, replaced by each run, editable by hand) → committed
  (numbered "Reviewer n", reviewer notified, kept by later runs).
- Review: draft → submitted (editable until decisions are released).
- Decision: recorded (chair only) → released (authors see it and the reviews, and get an e-mail).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common.urls import absolute_url
from conference.mail import mail_enqueue
from conference.models import Membership, Paper, PaperAuthor, PaperChange, Profile, Workshop

from . import conflicts as conflict_rules
from . import selectors
from .models import (
    Assignment,
    Bid,
    Comment,
    Conflict,
    Decision,
    Invitation,
    MetaReview,
    Review,
    ReviewerProfile,
    new_token,
)

# --- Committee -----------------------------------------------------------------------------------


INVITE_LINE = re.compile(
    r"^\s*(?:\"?(?P<name>[^<\",]*?)\"?\s*<(?P<email1>[^>]+)>|(?P<email2>[^\s,;<>]+@[^\s,;<>]+)"
    r"(?:[\s,;]+(?P<name2>.+))?)\s*$"
)


def invitation_parse(*, text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Lines like `Name <a@b.org>`, `a@b.org`, `a@b.org, Name` → ([(email, name)], [error lines])."""
    found, errors = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = INVITE_LINE.match(line)
        email = (match.group("email1") or match.group("email2") or "").strip().lower() if match else ""
        name = ((match.group("name") or match.group("name2") or "").strip()) if match else ""
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"“{line.strip()}” is not an e-mail address (write Name <name@example.org>).")
            continue
        found.append((email, name))
    return found, errors


@transaction.atomic
def invitation_create(
    *, workshop: Workshop, email: str, name: str = "", role: str = Membership.Role.REVIEWER, invited_by=None
) -> Invitation:
    """Invites one person (or re-sends a pending invitation) and e-mails them the answer link."""
    email = email.strip().lower()
    validate_email(email)
    invitation, created = Invitation.objects.get_or_create(
        workshop=workshop,
        email=email,
        role=role,
        defaults={"name": name, "invited_by": invited_by},
    )
    if not created and invitation.state == Invitation.State.ACCEPTED:
        return invitation
    if not created and invitation.state != Invitation.State.PENDING:
        # Re-inviting after a decline or a revocation: a fresh link, the old one stays dead.
        invitation.token = new_token()
        invitation.state = Invitation.State.PENDING
        invitation.responded_at = None
        invitation.invited_by = invited_by or invitation.invited_by
        invitation.save(update_fields=["token", "state", "responded_at", "invited_by"])
    url = absolute_url(
        reverse("reviewing:invitation", kwargs={"workshop": workshop.slug, "token": invitation.token})
    )
    role_name = Membership.Role(role).label.lower()
    mail_enqueue(
        to=[email],
        subject=f"[{workshop.short_name}] Invitation to serve as {role_name}",
        body=(
            f"Dear {name or 'colleague'},\n\nYou are invited to serve as {role_name} of {workshop.name} "
            f"({workshop.host_conference}).\n\nAccept or decline here:\n{url}\n\n"
            f"To accept you need an account with this address ({email}); the page above helps you "
            f"create one. The link works once, and only for this address.\n\n"
            f"The {workshop.short_name} chairs\n"
        ),
    )
    return invitation


def invitation_create_many(
    *, workshop: Workshop, text: str, role: str = Membership.Role.REVIEWER, invited_by=None
) -> tuple[list[Invitation], list[str]]:
    found, errors = invitation_parse(text=text)
    return [
        invitation_create(workshop=workshop, email=e, name=n, role=role, invited_by=invited_by)
        for e, n in found
    ], errors


def _membership_from_invitation(invitation: Invitation, user) -> None:
    Membership.objects.get_or_create(workshop=invitation.workshop, user=user, role=invitation.role)
    ReviewerProfile.objects.get_or_create(workshop=invitation.workshop, user=user)
    invitation.user = user
    invitation.save(update_fields=["user"])


def user_has_verified_email(*, user, email: str) -> bool:
    from allauth.account.models import EmailAddress

    if user is None or not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=email.strip(), verified=True).exists()


@transaction.atomic
def invitation_respond(*, invitation: Invitation, accept: bool, user=None) -> Invitation:
    """Accepts or declines, once. Accepting needs a signed-in account with a verified copy of the
    invited address (the link alone grants nothing); declining needs only the link."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state == Invitation.State.REVOKED:
        raise ValidationError("This invitation was withdrawn by the chairs; it can no longer be used.")
    if invitation.state == Invitation.State.DECLINED:
        raise ValidationError("This invitation was declined; ask the chairs for a new one.")
    if invitation.state == Invitation.State.ACCEPTED:
        if user is not None and user.is_authenticated and invitation.user_id == user.id:
            raise ValidationError("You have already accepted this invitation.")
        raise ValidationError("This invitation has already been used: each link works once.")
    if accept:
        if user is None or not user.is_authenticated:
            raise ValidationError(
                f"To accept, log in with an account for {invitation.email} (or create one)."
            )
        if not user_has_verified_email(user=user, email=invitation.email):
            raise ValidationError(
                f"This invitation is for {invitation.email}: accept it with an account that has this "
                "address, verified. Log out and create or use that account, or add and confirm the "
                "address in your account."
            )
    invitation.state = Invitation.State.ACCEPTED if accept else Invitation.State.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["state", "responded_at"])
    if accept:
        _membership_from_invitation(invitation, user)
    return invitation


def invitation_accept_if_bound(*, token: str, user) -> Invitation | None:
    """Completes an acceptance the user started before having an account (the token kept in their
    session): accepted if still pending and the user has the invited address verified, else None."""
    invitation = Invitation.objects.filter(token=token, state=Invitation.State.PENDING).first()
    if invitation is None or not user_has_verified_email(user=user, email=invitation.email):
        return None
    try:
        return invitation_respond(invitation=invitation, accept=True, user=user)
    except ValidationError:
        return None


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by) -> Invitation:
    """A chair withdraws a pending invitation: its link says so from now on."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(
            f"Only pending invitations can be revoked; this one is {invitation.get_state_display().lower()}."
        )
    invitation.state = Invitation.State.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["state", "responded_at"])
    return invitation


def invitations_link_user(*, user) -> int:
    """Gives a user the roles of the invitations accepted for any of their verified addresses."""
    from allauth.account.models import EmailAddress

    verified = [
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    ]
    linked = 0
    for invitation in Invitation.objects.filter(
        state=Invitation.State.ACCEPTED, user__isnull=True, email__in=verified
    ):
        _membership_from_invitation(invitation, user)
        linked += 1
    return linked


def reviewer_profile_get(*, workshop: Workshop, user) -> ReviewerProfile:
    profile, _ = ReviewerProfile.objects.get_or_create(workshop=workshop, user=user)
    return profile


def _split(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\n,;]+", value)
    return [v.strip() for v in value or [] if v and v.strip()]


@transaction.atomic
def reviewer_profile_update(
    *,
    profile: ReviewerProfile,
    topics=None,
    expertise: str = "",
    max_load=None,
    conflict_institutions="",
    conflict_domains="",
    conflict_emails="",
) -> ReviewerProfile:
    profile.expertise = expertise
    profile.max_load = max_load
    profile.conflict_institutions = _split(conflict_institutions)
    profile.conflict_domains = [d.lower().lstrip("@") for d in _split(conflict_domains)]
    profile.conflict_emails = [e.lower() for e in _split(conflict_emails)]
    profile.save()
    if topics is not None:
        profile.topics.set(topics)
    conflicts_detect(workshop=profile.workshop, users=[profile.user])
    return profile


# --- Conflicts -----------------------------------------------------------------------------------


def _person_for_user(user, workshop: Workshop | None = None) -> conflict_rules.Person:
    profile = Profile.objects.filter(user=user).first()
    emails = set(selectors.user_emails(user=user))
    person = conflict_rules.Person(
        key=user.id,
        emails=emails,
        domains=set(profile.all_domains()) if profile else set(),
        affiliations={profile.affiliation} if profile and profile.affiliation else set(),
    )
    if workshop is not None:
        rp = ReviewerProfile.objects.filter(workshop=workshop, user=user).first()
        if rp:
            person.conflict_institutions = {conflict_rules.normalise(x) for x in rp.conflict_institutions}
            person.conflict_domains = {d.lower() for d in rp.conflict_domains}
            person.conflict_emails = {e.lower() for e in rp.conflict_emails}
    return person


def _paper_people(workshop: Workshop) -> dict[int, list[conflict_rules.Person]]:
    """Authors of every paper of the edition (withdrawn ones too: co-authorship still counts)."""
    people: dict[int, list[conflict_rules.Person]] = {}
    authors = PaperAuthor.objects.filter(paper__workshop=workshop).select_related("user__profile")
    for author in authors:
        person = conflict_rules.Person(
            key=author.user_id, emails={author.email}, affiliations={author.affiliation}
        )
        if author.user_id:
            extra = _person_for_user(author.user)
            person.emails |= extra.emails
            person.domains |= extra.domains
            person.affiliations |= extra.affiliations
        people.setdefault(author.paper_id, []).append(person)
    return people


SOURCE_CONFIRMED = {Conflict.Source.AUTHOR_SELF, Conflict.Source.REVIEWER}


@transaction.atomic
def conflicts_detect(*, workshop: Workshop, users=None) -> int:
    """Runs detection for the committee (or the given users) and stores conflicts not seen before.
    Existing rows are never changed: dismissed ones stay dismissed. Returns the number of new rows."""
    users = (
        users
        if users is not None
        else selectors.committee_users(workshop=workshop, roles=list(Membership.Role.values))
    )
    reviewers = {u.id: _person_for_user(u, workshop) for u in users}
    people = _paper_people(workshop)
    numbers = dict(Paper.objects.filter(workshop=workshop).values_list("id", "number"))
    found = conflict_rules.detect(papers=people, reviewers=reviewers)
    existing = set(
        Conflict.objects.filter(paper__workshop=workshop).values_list("paper_id", "user_id", "source")
    )
    new = []
    for f in found:
        if (f.paper, f.reviewer, f.source) in existing:
            continue
        evidence = re.sub(r"#(\d+)", lambda m: f"#{numbers.get(int(m.group(1)), m.group(1))}", f.evidence)
        state = Conflict.State.CONFIRMED if f.source in SOURCE_CONFIRMED else Conflict.State.SUGGESTED
        new.append(
            Conflict(
                paper_id=f.paper, user_id=f.reviewer, source=f.source, state=state, evidence=evidence[:500]
            )
        )
    Conflict.objects.bulk_create(new)
    new_pairs = {(c.paper_id, c.user_id) for c in new}
    for assignment in Assignment.objects.filter(paper__workshop=workshop, state=Assignment.State.PROPOSED):
        if (assignment.paper_id, assignment.user_id) in new_pairs:
            assignment.delete()
    return len(new)


def conflicts_preview_for_email(*, workshop: Workshop, email: str) -> list[conflict_rules.Found]:
    """Possible conflicts of someone not yet on the committee (before inviting them)."""
    user = get_user_model().objects.filter(email__iexact=email).first()
    person = _person_for_user(user) if user else conflict_rules.Person(emails={email})
    return conflict_rules.detect(papers=_paper_people(workshop), reviewers={email: person})


@transaction.atomic
def conflict_decide(*, conflict: Conflict, confirm: bool, reason: str, user) -> Conflict:
    reason = reason.strip()
    if not confirm and not reason:
        raise ValidationError("Give a reason for dismissing a conflict: it is kept for the record.")
    conflict.state = Conflict.State.CONFIRMED if confirm else Conflict.State.DISMISSED
    conflict.reason = reason
    conflict.decided_by = user
    conflict.decided_at = timezone.now()
    conflict.save(update_fields=["state", "reason", "decided_by", "decided_at"])
    if confirm:
        Assignment.objects.filter(
            paper=conflict.paper, user=conflict.user, state=Assignment.State.PROPOSED
        ).delete()
    return conflict


@transaction.atomic
def conflict_declare(*, paper: Paper, user, source: str, evidence: str = "") -> Conflict:
    conflict, created = Conflict.objects.get_or_create(
        paper=paper,
        user=user,
        source=source,
        defaults={"state": Conflict.State.CONFIRMED, "evidence": evidence[:500]},
    )
    if not created and conflict.state != Conflict.State.CONFIRMED:
        conflict.state = Conflict.State.CONFIRMED
        conflict.save(update_fields=["state"])
    Assignment.objects.filter(paper=paper, user=user, state=Assignment.State.PROPOSED).delete()
    return conflict


@transaction.atomic
def conflicts_set_by_author(*, paper: Paper, user_ids: set[int]) -> None:
    """The authors' declared conflicts with committee members: exactly `user_ids` from now on."""
    members = {
        u.id: u
        for u in selectors.committee_users(workshop=paper.workshop, roles=list(Membership.Role.values))
    }
    Conflict.objects.filter(paper=paper, source=Conflict.Source.AUTHOR).exclude(user_id__in=user_ids).delete()
    for uid in user_ids & set(members):
        conflict_declare(
            paper=paper, user=members[uid], source=Conflict.Source.AUTHOR, evidence="declared by the authors"
        )


# --- Bids ----------------------------------------------------------------------------------------


@transaction.atomic
def bid_set(*, paper: Paper, user, value: str | None) -> Bid | None:
    """Sets (or clears, with an empty value) a reviewer's bid. "conflict" declares a conflict."""
    if not selectors.review_settings_get(workshop=paper.workshop).bidding_open:
        raise ValidationError("Bidding is closed.")
    if value and value not in Bid.Value.values:
        raise ValidationError(f"Unknown bid “{value}”.")
    if not value:
        Bid.objects.filter(paper=paper, user=user).delete()
        return None
    bid, _ = Bid.objects.update_or_create(paper=paper, user=user, defaults={"value": value})
    if value == Bid.Value.CONFLICT:
        conflict_declare(
            paper=paper, user=user, source=Conflict.Source.REVIEWER, evidence="declared while bidding"
        )
    return bid


# --- Assignment ----------------------------------------------------------------------------------


def assignment_run(*, workshop: Workshop, k: int | None = None, user=None, **options) -> dict:
    """Computes an assignment run in this process (tests, shell, seeds); pages queue it as a task
    instead (`assignment_services.assignment_run_start`). Returns the run's summary."""
    from .assignment_services import assignment_run_execute, run_options_clean, run_options_remember
    from .models import AssignmentRun

    config = selectors.review_settings_get(workshop=workshop)
    if k is not None and k < 1:
        raise ValidationError("Reviewers per paper must be at least 1.")
    options = run_options_clean(config=config, data={"k": k, **options})
    run_options_remember(config=config, options=options)
    run = AssignmentRun.objects.create(workshop=workshop, options=options, created_by=user)
    run = assignment_run_execute(run_id=run.pk)
    if run.state == AssignmentRun.State.FAILED:
        raise ValidationError(run.error)
    return run.summary


def assignment_preview(*, workshop: Workshop) -> dict:
    from .assignment_services import assignment_preview as preview

    return preview(workshop=workshop)


@transaction.atomic
def assignment_add(*, paper: Paper, user) -> Assignment:
    """A chair assigns by hand (as a proposal, committed with the rest). Conflicts are refused."""
    if not Membership.objects.filter(
        workshop=paper.workshop, user=user, role__in=[Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR]
    ).exists():
        raise ValidationError("Only committee reviewers can be assigned.")
    if (paper.id, user.id) in selectors.conflicted_pairs(workshop=paper.workshop):
        raise ValidationError(
            f"This reviewer has a conflict of interest with paper #{paper.number}: "
            "dismiss the conflict first if it is wrong."
        )
    assignment, created = Assignment.objects.get_or_create(paper=paper, user=user, defaults={"manual": True})
    if not created:
        raise ValidationError("This reviewer is already assigned to the paper.")
    return assignment


@transaction.atomic
def assignment_remove(*, assignment: Assignment) -> None:
    review = getattr(assignment, "review", None) if hasattr(assignment, "review") else None
    if review is not None and review.state == Review.State.SUBMITTED:
        raise ValidationError("This reviewer has submitted a review: it cannot be removed.")
    assignment.delete()


def assignments_commit(*, workshop: Workshop, fingerprint: str | None = None) -> int:
    """Commits every proposed pair in bulk and notifies each reviewer once (see `assignment_services`)."""
    from .assignment_services import assignments_commit as commit

    return commit(workshop=workshop, fingerprint=fingerprint)


# --- Reviews -------------------------------------------------------------------------------------


REVIEW_FIELDS = [
    "rating",
    "confidence",
    "strengths",
    "weaknesses",
    "justification",
    "comments_to_authors",
    "confidential_comments",
]
REQUIRED_TO_SUBMIT = {
    "rating": "an overall rating",
    "confidence": "your confidence",
    "strengths": "strengths",
    "weaknesses": "weaknesses",
    "comments_to_authors": "comments to the authors",
}


def review_save(*, assignment: Assignment, data: dict, submit: bool) -> Review:
    """Saves the review as a draft, or submits it (every required field filled). Nothing typed is lost:
    a refused submission is still saved, as the draft it was, before the error is raised."""
    if selectors.released_decision(paper=assignment.paper):
        raise ValidationError("Decisions have been released: reviews can no longer change.")
    with transaction.atomic():
        review, _ = Review.objects.select_for_update().get_or_create(assignment=assignment)
        was_submitted = review.state == Review.State.SUBMITTED
        for field in REVIEW_FIELDS:
            if field in data:
                empty = None if field in ("rating", "confidence") else ""
                setattr(review, field, data[field] if data[field] not in ("", None) else empty)
        if was_submitted:
            # A submitted review stays complete: an edit that empties a required field is refused.
            missing = [label for field, label in REQUIRED_TO_SUBMIT.items() if not getattr(review, field)]
            if missing:
                raise ValidationError(
                    f"A submitted review needs {', '.join(missing)}; your change was not saved."
                )
        review.save()
    if submit:
        missing = [label for field, label in REQUIRED_TO_SUBMIT.items() if not getattr(review, field)]
        if missing:
            raise ValidationError(f"Saved as a draft. To submit, fill in {', '.join(missing)}.")
        review.state = Review.State.SUBMITTED
        review.submitted_at = review.submitted_at or timezone.now()
        review.save(update_fields=["state", "submitted_at"])
    return review


def reminders_send(*, now=None) -> int:
    """E-mails reviewers whose reviews are due within a day or late, at most every `reminder_every_hours`."""
    from datetime import timedelta

    from .models import ReviewSettings

    now = now or timezone.now()
    sent = 0
    for config in ReviewSettings.objects.filter(review_deadline__isnull=False).select_related("workshop"):
        if config.review_deadline - timedelta(days=1) > now:
            continue
        interval = timedelta(hours=config.reminder_every_hours)
        pending = (
            Assignment.objects.filter(
                paper__workshop=config.workshop,
                state=Assignment.State.COMMITTED,
                paper__status=Paper.Status.SUBMITTED,
            )
            .exclude(review__state=Review.State.SUBMITTED)
            .select_related("user", "paper")
        )
        for assignment in pending:
            if assignment.last_reminded_at and assignment.last_reminded_at > now - interval:
                continue
            late = now > config.review_deadline
            workshop = config.workshop
            url = absolute_url(
                reverse(
                    "reviewing:review", kwargs={"workshop": workshop.slug, "number": assignment.paper.number}
                )
            )
            mail_enqueue(
                to=[assignment.user.email],
                subject=f"[{workshop.short_name}] {'Late' if late else 'Due soon'}: your review of paper #{assignment.paper.number}",
                body=(
                    f'Hello,\n\nYour review of paper #{assignment.paper.number} "{assignment.paper.title}" '
                    f"{'was due' if late else 'is due'} on {config.review_deadline.astimezone(workshop.zone):%a %d %B %Y, %H:%M %Z}.\n"
                    f"Please submit it at {url}\n"
                ),
            )
            Assignment.objects.filter(pk=assignment.pk).update(last_reminded_at=now)
            sent += 1
    return sent


@transaction.atomic
def reviewers_remind(*, workshop: Workshop, chair, user_ids=None, late_only: bool, shown_at, now=None) -> int:
    """A chair's "remind" click: one e-mail per reviewer (all of their pending reviews on papers the
    chair may see), noted on the assignments. `shown_at` is when the chair's page was rendered: a
    reviewer reminded since (a second click, another chair) is not reminded again. Returns how many
    reviewers were e-mailed."""
    now = now or timezone.now()
    config = selectors.review_settings_get(workshop=workshop)
    deadline = config.review_deadline
    if late_only and (deadline is None or now <= deadline):
        raise ValidationError("No review is late: the review deadline has not passed.")
    hidden = selectors.conflicted_paper_ids(workshop=workshop, user=chair)
    pending = (
        Assignment.objects.select_for_update(of=("self",))
        .filter(
            paper__workshop=workshop,
            state=Assignment.State.COMMITTED,
            paper__status=Paper.Status.SUBMITTED,
        )
        .exclude(paper_id__in=hidden)
        .exclude(review__state=Review.State.SUBMITTED)
        .select_related("user", "paper")
        .order_by("paper__number")
    )
    if user_ids is not None:
        pending = pending.filter(user_id__in=user_ids)
    by_user: dict = {}
    for assignment in pending:
        by_user.setdefault(assignment.user, []).append(assignment)
    sent = 0
    home = absolute_url(reverse("reviewing:home", kwargs={"workshop": workshop.slug}))
    for reviewer, assignments in by_user.items():
        if any(a.last_reminded_at and a.last_reminded_at > shown_at for a in assignments):
            continue  # reminded after the page was shown: this click was already answered
        lines = "\n".join(f'  #{a.paper.number} "{a.paper.title}"' for a in assignments)
        due = (
            f"{'were' if now > deadline else 'are'} due on "
            f"{deadline.astimezone(workshop.zone):%a %d %B %Y, %H:%M %Z}"
            if deadline
            else "are awaited"
        )
        mail_enqueue(
            to=[reviewer.email],
            subject=f"[{workshop.short_name}] Reminder: {len(assignments)} review(s) to submit",
            body=(
                f"Hello,\n\nA chair of {workshop.short_name} reminds you that your reviews of these papers "
                f"{due}:\n{lines}\n\nPlease submit them at {home}\n"
            ),
        )
        Assignment.objects.filter(pk__in=[a.pk for a in assignments]).update(last_reminded_at=now)
        sent += 1
    return sent


# --- Discussion and meta-review ------------------------------------------------------------------


def comment_post(*, paper: Paper, user, text: str, as_chair: bool) -> Comment:
    text = text.strip()
    if not text:
        raise ValidationError("The message is empty.")
    if as_chair:
        shown_as = "Chair"
    else:
        assignment = selectors.assignment_for(paper=paper, user=user)
        if assignment is None:
            raise ValidationError("Only the paper's reviewers and the chairs take part in its discussion.")
        shown_as = assignment.pseudonym
    return Comment.objects.create(paper=paper, user=user, shown_as=shown_as, text=text)


def meta_review_save(*, paper: Paper, user, text: str) -> MetaReview:
    meta, _ = MetaReview.objects.update_or_create(paper=paper, defaults={"user": user, "text": text.strip()})
    return meta


# --- Decisions and release -----------------------------------------------------------------------


@transaction.atomic
def decision_set(*, papers, outcome: str, user) -> int:
    """Records accept/reject for the papers (bulk). Authors learn nothing until release."""
    if outcome not in Decision.Outcome.values and outcome != "":
        raise ValidationError(f"Unknown decision “{outcome}”.")
    count = 0
    for paper in papers:
        if selectors.released_decision(paper=paper):
            raise ValidationError(f"The decision on paper #{paper.number} is already released.")
        if outcome == "":
            Decision.objects.filter(paper=paper).delete()
        else:
            Decision.objects.update_or_create(paper=paper, defaults={"outcome": outcome, "decided_by": user})
        count += 1
    return count


class _SafeDict(dict):
    def __missing__(self, key):
        raise ValidationError(
            f"Unknown placeholder {{{key}}} in the template: use {{workshop}}, {{number}}, "
            "{title}, {decision} or {url}."
        )


def notification_render(*, paper: Paper, subject: str, body: str) -> tuple[str, str]:
    decision = Decision.objects.filter(paper=paper).first()
    values = _SafeDict(
        workshop=paper.workshop.short_name,
        number=paper.number,
        title=paper.title,
        decision=decision.get_outcome_display() if decision else "(no decision)",
        url=absolute_url(
            reverse(
                "reviewing:author-reviews", kwargs={"workshop": paper.workshop.slug, "number": paper.number}
            )
        ),
    )
    try:
        return subject.format_map(values), body.format_map(values)
    except (ValueError, IndexError, AttributeError) as exc:
        raise ValidationError(f"The template is not valid: {exc}. Write placeholders as {{title}}.")


@transaction.atomic
def decisions_release(
    *, workshop: Workshop, subject: str, body: str, user, fingerprint: str | None = None
) -> int:
    """Releases every recorded, unreleased decision: authors see decision and reviews, get an e-mail.
    With `fingerprint` (from the confirmation page), refuses if the pending decisions changed since."""
    if fingerprint is not None and fingerprint != selectors.release_fingerprint(workshop=workshop):
        raise ValidationError(
            "The decisions changed since the confirmation page was shown: nothing was released. "
            "Check the new counts and confirm again."
        )
    config = selectors.review_settings_get(workshop=workshop)
    config.notification_subject, config.notification_body = subject, body
    config.save(update_fields=["notification_subject", "notification_body"])
    now = timezone.now()
    released = 0
    for decision in (
        Decision.objects.select_for_update()
        .filter(paper__workshop=workshop, released_at__isnull=True)
        .select_related("paper")
    ):
        paper = decision.paper
        mail_subject, mail_body = notification_render(paper=paper, subject=subject, body=body)
        decision.released_at = now
        decision.save(update_fields=["released_at"])
        paper.status = (
            Paper.Status.ACCEPTED if decision.outcome == Decision.Outcome.ACCEPT else Paper.Status.REJECTED
        )
        paper.save(update_fields=["status", "updated_at"])
        PaperChange.objects.create(
            paper=paper,
            user=user,
            action=PaperChange.Action.DECISION,
            summary=f"Decision released: {decision.get_outcome_display()}",
        )
        recipients = list(paper.authors.values_list("email", flat=True))
        mail_enqueue(to=recipients, subject=mail_subject, body=mail_body)
        released += 1
    return released


# --- Supplementary material for reviewers --------------------------------------------------------


def supplementary_for_reviewers(*, paper: Paper):
    """The anonymised supplementary material of the paper's current version (a `SupplementaryCopy`
    with `file` or `error`), made in the sandbox on first use and kept; None when there is none.
    A time-out is not kept (the next request tries again); a refusal or a crash is."""
    import shutil
    import tempfile
    from pathlib import Path

    from django.core.files import File

    from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed
    from conference.selectors import paper_current_version

    from .models import SupplementaryCopy

    version = paper_current_version(paper=paper)
    if version is None or not version.supplementary:
        return None
    source_name = version.supplementary.name
    copy = SupplementaryCopy.objects.filter(version=version, source_name=source_name).first()
    if copy is not None:
        return copy
    kind = "zip" if source_name.lower().endswith(".zip") else "pdf"
    report, error = {}, ""
    with tempfile.TemporaryDirectory(prefix="mai-supplementary-") as tmp:
        source, destination = Path(tmp) / f"in.{kind}", Path(tmp) / f"out.{kind}"
        with version.supplementary.open("rb") as handle, open(source, "wb") as out:
            shutil.copyfileobj(handle, out, 1024 * 1024)
        try:
            report, _log = run_sandboxed(
                "conference.reviewing.supplementary:anonymise",
                {"source": str(source), "destination": str(destination), "kind": kind},
                time_limit_s=float(settings.SUPPLEMENTARY_TIME_LIMIT_S),
                memory_limit_mb=int(settings.SUPPLEMENTARY_MEMORY_MB),
            )
        except SandboxTimeout:
            raise ValidationError(
                "The supplementary material is still being prepared (it took too long); try again shortly."
            )
        except SandboxError as exc:
            error = (
                exc.message
                if exc.error_type == "SupplementaryRefused"
                else f"The supplementary material could not be read ({exc.error_type})."
            )
        except SandboxCrash as exc:
            error = f"The supplementary material could not be read (the reader died: {exc.signal_name})."
        copy, _ = SupplementaryCopy.objects.update_or_create(
            version=version, defaults={"source_name": source_name, "report": report, "error": error[:2000]}
        )
        if not error:
            with open(destination, "rb") as handle:
                copy.file.save(f"paper-{paper.number}-supplementary.{kind}", File(handle), save=True)
    return copy
