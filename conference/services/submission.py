"""Submit, edit and withdraw a paper. A paper is a DRAFT until a PDF version passes its check, then
SUBMITTED; WITHDRAWN at its authors' request at any time before a decision (accepted/rejected are set
by `reviewing`). Submit and edit are refused outside the window (`deadlines.require_open`) and edit
also when the paper changed since its form was loaded (`Paper.revision`)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..models import Paper, PaperChange, Topic, Workshop
from ..selectors import submission_window
from .authors import AuthorData, invite, set_authors
from .deadlines import SubmissionClosed, require_open
from .notify import display_name, log_change, paper_notify_authors
from .versions import add_version


class PaperConflict(ValidationError):
    """The paper changed since the form was loaded (another tab, a co-author)."""


def _validate_content(
    workshop: Workshop,
    topics,
    kind: str,
    challenge,
    dual_submission: bool,
    dual_submission_id: str,
    authors: list[AuthorData],
) -> None:
    """Every field error at once (a ValidationError keyed by field)."""
    errors = {}
    if any(t.workshop_id != workshop.pk for t in topics):
        errors["topics"] = "Choose topics of this workshop."
    if kind == Paper.Kind.CHALLENGE and challenge is None:
        errors["challenge"] = "A challenge paper names its challenge."
    if challenge is not None and challenge.workshop_id != workshop.pk:
        errors["challenge"] = "That challenge belongs to another edition."
    if dual_submission and not workshop.dual_submission_with_host_allowed:
        errors["dual_submission"] = "This workshop does not allow dual submissions."
    if dual_submission and not dual_submission_id.strip():
        errors["dual_submission_id"] = (
            f"Give the {workshop.host_conference} submission ID of the dual submission."
        )
    if not authors:
        errors["__all__"] = "A paper has at least one author."
    if len({a.email.lower() for a in authors}) != len(authors):
        errors["__all__"] = "Each author appears once: two authors have the same e-mail address."
    if errors:
        raise ValidationError(errors)


def paper_create(
    *,
    workshop: Workshop,
    submitter,
    title: str,
    abstract: str,
    topics: list[Topic],
    kind: str,
    challenge=None,
    dual_submission: bool = False,
    dual_submission_id: str = "",
    authors: list[AuthorData],
    pdf,
    supplementary=None,
    submission_token=None,
    now: dt.datetime | None = None,
) -> tuple[Paper, bool]:
    """Creates the paper (a DRAFT until its PDF passes the check) and queues the check.
    Returns (paper, created); the same `submission_token` posted twice returns the first paper."""
    now = now or timezone.now()
    require_open(
        submission_window(workshop=workshop, kind=kind), now, what="Submitting a paper", zone=workshop.zone
    )
    _validate_content(workshop, topics, kind, challenge, dual_submission, dual_submission_id, authors)
    with transaction.atomic():
        # The workshop row is the lock that numbers papers one after the other.
        Workshop.objects.select_for_update().get(pk=workshop.pk)
        existing = (
            Paper.objects.filter(submission_token=submission_token).first() if submission_token else None
        )
        if existing:
            return existing, False
        number = (Paper.objects.filter(workshop=workshop).aggregate(n=Max("number"))["n"] or 0) + 1
        paper = Paper.objects.create(
            workshop=workshop,
            number=number,
            title=title.strip(),
            abstract=abstract.strip(),
            kind=kind,
            challenge=challenge if kind == Paper.Kind.CHALLENGE else None,
            dual_submission=dual_submission,
            dual_submission_id=dual_submission_id.strip() if dual_submission else "",
            submitter=submitter,
            submission_token=submission_token,
        )
        paper.topics.set(topics)
        to_invite = set_authors(paper, authors)
        log_change(
            paper,
            user=submitter,
            action=PaperChange.Action.CREATED,
            summary=f"Created paper #{number} “{paper.title}”",
            details={"authors": [a.email for a in authors], "kind": kind},
        )
        add_version(paper, user=submitter, pdf=pdf, supplementary=supplementary)
        invite(paper, to_invite, now=now)
        paper_notify_authors(
            paper=paper,
            subject="Paper received",
            template="paper_received.txt",
            context={"actor": display_name(submitter)},
        )
    return paper, True


def paper_update(
    *,
    paper: Paper,
    user,
    expected_revision: int | None,
    title: str,
    abstract: str,
    topics: list[Topic],
    kind: str,
    challenge=None,
    dual_submission: bool = False,
    dual_submission_id: str = "",
    authors: list[AuthorData],
    pdf=None,
    supplementary=None,
    now: dt.datetime | None = None,
) -> Paper:
    """Edits the paper and, when a PDF is given, adds a version. Refused after the deadline, and when
    the paper changed since the form was loaded (`expected_revision`)."""
    now = now or timezone.now()
    _validate_content(paper.workshop, topics, kind, challenge, dual_submission, dual_submission_id, authors)
    with transaction.atomic():
        paper = Paper.objects.select_for_update().select_related("workshop").get(pk=paper.pk)
        _require_editable(paper, kind=kind, expected_revision=expected_revision, now=now)
        before = _snapshot(paper)
        paper.title, paper.abstract, paper.kind = title.strip(), abstract.strip(), kind
        paper.challenge = challenge if kind == Paper.Kind.CHALLENGE else None
        paper.dual_submission = dual_submission
        paper.dual_submission_id = dual_submission_id.strip() if dual_submission else ""
        paper.revision += 1
        paper.save()
        paper.topics.set(topics)
        to_invite = set_authors(paper, authors)
        after = _snapshot(paper)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        fields = ", ".join(k.replace("_", " ") for k in changed)
        if changed:
            log_change(
                paper,
                user=user,
                action=PaperChange.Action.EDITED,
                summary=f"Changed {fields}",
                details=changed,
            )
        if pdf is not None or supplementary is not None:
            if pdf is None:
                raise ValidationError({"pdf": "Upload the PDF together with new supplementary material."})
            add_version(paper, user=user, pdf=pdf, supplementary=supplementary)
        invite(paper, to_invite, now=now)
        if changed:
            paper_notify_authors(
                paper=paper,
                subject="Paper changed",
                template="paper_changed.txt",
                context={"actor": display_name(user), "changed": fields, "new_pdf": pdf is not None},
            )
    return paper


def _require_editable(paper: Paper, *, kind: str, expected_revision: int | None, now: dt.datetime) -> None:
    """An edit needs a draft or submitted paper, its window open (and the new kind's, when the kind
    changes), and the revision the form was loaded at."""
    if paper.status not in (Paper.Status.DRAFT, Paper.Status.SUBMITTED):
        raise SubmissionClosed(f"The paper is {paper.get_status_display().lower()}: it cannot be edited.")
    zone = paper.workshop.zone
    window = submission_window(workshop=paper.workshop, kind=paper.kind, paper=paper)
    require_open(window, now, what="Editing the paper", zone=zone)
    if kind != paper.kind:
        window = submission_window(workshop=paper.workshop, kind=kind, paper=paper)
        require_open(window, now, what=f"Changing it to a {Paper.Kind(kind).label.lower()}", zone=zone)
    if expected_revision is not None and expected_revision != paper.revision:
        raise PaperConflict(
            "The paper was changed (in another tab or by a co-author) after you opened "
            "this form. Nothing was saved: reload the page and make your change again."
        )


def _snapshot(paper: Paper) -> dict:
    """The fields the change log compares before and after an edit."""
    return {
        "title": paper.title,
        "abstract": paper.abstract,
        "kind": paper.kind,
        "challenge": str(paper.challenge) if paper.challenge_id else "",
        "topics": sorted(t.name for t in paper.topics.all()),
        "dual_submission": paper.dual_submission_id if paper.dual_submission else "",
        "authors": [f"{a.name} <{a.email}> ({a.affiliation})" for a in paper.authors.order_by("order")],
    }


def paper_withdraw(*, paper: Paper, user, reason: str = "", now: dt.datetime | None = None) -> Paper:
    """Withdraws the paper (allowed at any time before a decision); the paper and its files are kept."""
    now = now or timezone.now()
    with transaction.atomic():
        paper = Paper.objects.select_for_update().select_related("workshop").get(pk=paper.pk)
        if paper.status == Paper.Status.WITHDRAWN:
            return paper
        if paper.status in (Paper.Status.ACCEPTED, Paper.Status.REJECTED):
            raise ValidationError("A decision was made on this paper: write to the chairs to withdraw it.")
        paper.status = Paper.Status.WITHDRAWN
        paper.withdrawn_at = now
        paper.withdrawal_reason = reason.strip()[:2000]
        paper.revision += 1
        paper.save()
        log_change(
            paper,
            user=user,
            action=PaperChange.Action.WITHDRAWN,
            summary="Withdrew the paper",
            details={"reason": paper.withdrawal_reason},
        )
        paper_notify_authors(
            paper=paper,
            subject="Paper withdrawn",
            template="paper_withdrawn.txt",
            context={"actor": display_name(user)},
        )
    return paper
