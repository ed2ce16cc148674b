"""Writes of the paper side: submission window, submit, edit, new PDF versions, the PDF check with
its review copy, withdrawal, per-paper deadline extensions, co-author invitations and linking, the
change log and the authors' e-mails. Views, admin, the API and Celery tasks call these functions.

Every function takes keyword arguments; `now` is the instant the server decided on (the view passes
the time the request arrived), so the deadline is enforced to the second.
"""

import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from common.urls import absolute_url

from . import pdfcheck
from .mail import mail_enqueue
from .models import ImportantDate, Paper, PaperAuthor, PaperChange, PaperVersion, Topic, Workshop


class SubmissionClosed(ValidationError):
    """The deadline (with grace and any extension) has passed, or submission has not opened yet."""


class PaperConflict(ValidationError):
    """The paper changed since the form was loaded (another tab, a co-author)."""


@dataclass(frozen=True)
class AuthorData:
    name: str
    email: str
    affiliation: str


@dataclass(frozen=True)
class Window:
    opens: dt.datetime | None
    deadline: dt.datetime | None  # as published
    closes: dt.datetime | None  # deadline + grace (+ a paper's extension)
    extended: bool = False

    @property
    def shown(self) -> dt.datetime | None:
        """What pages announce: the published deadline (the grace period is not advertised), or
        the paper's extension."""
        return self.closes if self.extended else self.deadline

    def is_open(self, now: dt.datetime) -> bool:
        if self.closes is None:
            return False
        return (self.opens is None or now >= self.opens) and now <= self.closes


# --- Window -----------------------------------------------------------------------------------------


def submission_window(*, workshop: Workshop, kind: str, paper: Paper | None = None) -> Window:
    """The window for a kind of paper: opens at `submission_open`, closes at `paper_deadline` (or
    `challenge_paper_deadline` for challenge papers) plus the workshop's grace minutes; a chair's
    extension of one paper moves that paper's close later, never earlier."""
    dates = {d.kind: d.at for d in ImportantDate.objects.filter(workshop=workshop).order_by("-at")}
    K = ImportantDate.Kind
    opens = dates.get(K.SUBMISSION_OPEN)
    deadline = dates.get(K.PAPER_DEADLINE)
    if kind == Paper.Kind.CHALLENGE:
        deadline = dates.get(K.CHALLENGE_PAPER_DEADLINE, deadline)
    closes = deadline + dt.timedelta(minutes=workshop.submission_grace_minutes) if deadline else None
    extended = False
    if (
        paper is not None
        and paper.deadline_extended_until
        and (closes is None or paper.deadline_extended_until > closes)
    ):
        closes, extended = paper.deadline_extended_until, True
    return Window(opens=opens, deadline=deadline, closes=closes, extended=extended)


def _at(value: dt.datetime, zone) -> str:
    """A deadline to the second, in the edition's time zone: “2021-03-15 17:00:00 PDT”."""
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}"


def _require_open(window: Window, now: dt.datetime, *, what: str, zone) -> None:
    if window.closes is None:
        raise SubmissionClosed(f"{what} is not possible: the chairs have not set a submission deadline yet.")
    if window.opens and now < window.opens:
        raise SubmissionClosed(f"{what} is not possible yet: submission opens at {_at(window.opens, zone)}.")
    if now > window.closes:
        raise SubmissionClosed(
            f"{what} is no longer possible: the deadline was {_at(window.closes, zone)} and it is now "
            f"{_at(now, zone)}. Only withdrawal is possible."
        )


def paper_is_editable(*, paper: Paper, now: dt.datetime | None = None) -> bool:
    if paper.status not in (Paper.Status.DRAFT, Paper.Status.SUBMITTED):
        return False
    return submission_window(workshop=paper.workshop, kind=paper.kind, paper=paper).is_open(
        now or timezone.now()
    )


# --- Helpers ----------------------------------------------------------------------------------------


def _log(paper: Paper, *, user, action: str, summary: str, details: dict | None = None) -> PaperChange:
    return PaperChange.objects.create(
        paper=paper, user=user, action=action, summary=summary, details=details or {}
    )


def _paper_url(paper: Paper) -> str:
    return absolute_url(
        reverse("conference:paper", kwargs={"workshop": paper.workshop.slug, "number": paper.number})
    )


def paper_notify_authors(*, paper: Paper, subject: str, body: str) -> None:
    """One e-mail to every author of the paper (registered or not)."""
    to = [a.email for a in paper.authors.all()]
    mail_enqueue(
        to=to,
        subject=f"[{paper.workshop.short_name} #{paper.number}] {subject}",
        body=f"{body}\n\nPaper #{paper.number}: {paper.title}\n{_paper_url(paper)}\n",
    )


def _user_for_email(email: str):
    """The account that confirmed this address (only confirmed addresses link: otherwise anyone could
    sign up with a co-author's address and see the paper)."""
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
    return address.user if address else None


def _set_authors(paper: Paper, authors: list[AuthorData], *, now: dt.datetime) -> list[PaperAuthor]:
    """Replaces the author list, keeping links and invitations of addresses already there; returns
    the authors that need an invitation (no account yet, not invited before)."""
    existing = {a.email.lower(): a for a in paper.authors.all()}
    wanted = {a.email.lower() for a in authors}
    PaperAuthor.objects.filter(pk__in=[a.pk for e, a in existing.items() if e not in wanted]).delete()
    to_invite = []
    for order, data in enumerate(authors, start=1):
        author = existing.get(data.email.lower()) or PaperAuthor(paper=paper, email=data.email)
        author.order, author.name, author.affiliation = order, data.name.strip(), data.affiliation.strip()
        if author.user_id is None:
            author.user = _user_for_email(data.email)
        author.save()
        if author.user_id is None and author.invited_at is None:
            to_invite.append(author)
    return to_invite


def _invite(paper: Paper, authors: list[PaperAuthor], *, now: dt.datetime) -> None:
    for author in authors:
        signup = absolute_url(reverse("account_signup") + "?" + urlencode({"email": author.email}))
        mail_enqueue(
            to=[author.email],
            subject=f"[{paper.workshop.short_name}] You are a co-author of paper #{paper.number}",
            body=(
                f"Dear {author.name},\n\nyou were listed as an author of the paper “{paper.title}” "
                f"submitted to {paper.workshop.name}.\nSign up with this address ({author.email}) "
                f"to see and edit the paper: {signup}\n"
                "Once you confirm the address, the paper appears under “My papers”.\n"
            ),
        )
        author.invited_at = now
        author.save(update_fields=["invited_at"])


def _store_upload(version: PaperVersion, field: str, upload, name: str) -> None:
    getattr(version, field).save(name, File(upload), save=False)


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _add_version(paper: Paper, *, user, pdf, supplementary, now: dt.datetime) -> PaperVersion:
    number = (paper.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PaperVersion(
        paper=paper,
        number=number,
        uploaded_by=user,
        original_name=Path(getattr(pdf, "name", "paper.pdf")).name[:255],
        size=getattr(pdf, "size", 0) or 0,
        sha256=_sha256(pdf),
    )
    _store_upload(version, "original", pdf, "original.pdf")
    if supplementary is None and number > 1:
        previous = paper.versions.exclude(supplementary="").order_by("-number").first()
        if previous:
            version.supplementary = previous.supplementary.name  # the same stored file, not a copy
    elif supplementary is not None:
        _store_upload(version, "supplementary", supplementary, supplementary.name)
    version.save()
    _log(
        paper,
        user=user,
        action=PaperChange.Action.PDF_UPLOADED,
        summary=f"Uploaded PDF version {number} ({version.size / 1e6:.1f} MB)",
        details={"version": number, "sha256": version.sha256, "supplementary": bool(supplementary)},
    )
    from .tasks import check_paper_version

    transaction.on_commit(lambda: check_paper_version.apply_async(args=[version.pk], queue="scoring"))
    return version


def _validate_content(
    *,
    workshop: Workshop,
    topics,
    kind: str,
    challenge,
    dual_submission: bool,
    dual_submission_id: str,
    authors: list[AuthorData],
) -> None:
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


# --- Submit, edit, withdraw ----------------------------------------------------------------------


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
    _require_open(
        submission_window(workshop=workshop, kind=kind), now, what="Submitting a paper", zone=workshop.zone
    )
    _validate_content(
        workshop=workshop,
        topics=topics,
        kind=kind,
        challenge=challenge,
        dual_submission=dual_submission,
        dual_submission_id=dual_submission_id,
        authors=authors,
    )
    with transaction.atomic():
        # The workshop row is the lock that numbers papers one after the other.
        Workshop.objects.select_for_update().get(pk=workshop.pk)
        if submission_token:
            existing = Paper.objects.filter(submission_token=submission_token).first()
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
        to_invite = _set_authors(paper, authors, now=now)
        _log(
            paper,
            user=submitter,
            action=PaperChange.Action.CREATED,
            summary=f"Created paper #{number} “{paper.title}”",
            details={"authors": [a.email for a in authors], "kind": kind},
        )
        _add_version(paper, user=submitter, pdf=pdf, supplementary=supplementary, now=now)
        _invite(paper, to_invite, now=now)
        paper_notify_authors(
            paper=paper,
            subject="Paper received",
            body=(
                f"{_display_name(submitter)} submitted the paper “{paper.title}” to {workshop.name}.\n"
                "Its PDF is being checked; you get another e-mail with the result. You can edit the "
                "paper until the deadline."
            ),
        )
    return paper, True


def _display_name(user) -> str:
    if user is None:
        return "Someone"
    profile = getattr(user, "profile", None)
    return (profile.full_name if profile else "") or user.get_full_name() or user.email


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
    _validate_content(
        workshop=paper.workshop,
        topics=topics,
        kind=kind,
        challenge=challenge,
        dual_submission=dual_submission,
        dual_submission_id=dual_submission_id,
        authors=authors,
    )
    with transaction.atomic():
        paper = Paper.objects.select_for_update().select_related("workshop").get(pk=paper.pk)
        if paper.status not in (Paper.Status.DRAFT, Paper.Status.SUBMITTED):
            raise SubmissionClosed(f"The paper is {paper.get_status_display().lower()}: it cannot be edited.")
        _require_open(
            submission_window(workshop=paper.workshop, kind=paper.kind, paper=paper),
            now,
            what="Editing the paper",
            zone=paper.workshop.zone,
        )
        if kind != paper.kind:
            _require_open(
                submission_window(workshop=paper.workshop, kind=kind, paper=paper),
                now,
                what=f"Changing it to a {Paper.Kind(kind).label.lower()}",
                zone=paper.workshop.zone,
            )
        if expected_revision is not None and expected_revision != paper.revision:
            raise PaperConflict(
                "The paper was changed (in another tab or by a co-author) after you opened "
                "this form. Nothing was saved: reload the page and make your change again."
            )
        before = _snapshot(paper)
        paper.title, paper.abstract, paper.kind = title.strip(), abstract.strip(), kind
        paper.challenge = challenge if kind == Paper.Kind.CHALLENGE else None
        paper.dual_submission = dual_submission
        paper.dual_submission_id = dual_submission_id.strip() if dual_submission else ""
        paper.revision += 1
        paper.save()
        paper.topics.set(topics)
        to_invite = _set_authors(paper, authors, now=now)
        after = _snapshot(paper)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changed:
            _log(
                paper,
                user=user,
                action=PaperChange.Action.EDITED,
                summary="Changed " + ", ".join(k.replace("_", " ") for k in changed),
                details=changed,
            )
        if pdf is not None or supplementary is not None:
            if pdf is None:
                raise ValidationError({"pdf": "Upload the PDF together with new supplementary material."})
            _add_version(paper, user=user, pdf=pdf, supplementary=supplementary, now=now)
        _invite(paper, to_invite, now=now)
        if changed:
            paper_notify_authors(
                paper=paper,
                subject="Paper changed",
                body=f"{_display_name(user)} changed {', '.join(k.replace('_', ' ') for k in changed)}."
                + (" A new PDF is being checked." if pdf is not None else ""),
            )
    return paper


def _snapshot(paper: Paper) -> dict:
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
        _log(
            paper,
            user=user,
            action=PaperChange.Action.WITHDRAWN,
            summary="Withdrew the paper",
            details={"reason": paper.withdrawal_reason},
        )
        paper_notify_authors(
            paper=paper,
            subject="Paper withdrawn",
            body=f"{_display_name(user)} withdrew the paper."
            + (f"\nReason: {paper.withdrawal_reason}" if paper.withdrawal_reason else ""),
        )
    return paper


def paper_extend_deadline(*, paper: Paper, user, until: dt.datetime) -> Paper:
    """A chair's extension for one paper (its authors can edit and upload until `until`)."""
    if until <= timezone.now():
        raise ValidationError({"until": "The extension must end in the future."})
    with transaction.atomic():
        paper = Paper.objects.select_for_update().select_related("workshop").get(pk=paper.pk)
        paper.deadline_extended_until = until
        paper.revision += 1
        paper.save()
        when = f"{timezone.localtime(until, paper.workshop.zone):%Y-%m-%d %H:%M %Z}"
        _log(
            paper,
            user=user,
            action=PaperChange.Action.EXTENDED,
            summary=f"Extended the deadline of this paper to {when}",
            details={"until": until.isoformat()},
        )
        paper_notify_authors(
            paper=paper,
            subject="Deadline extended",
            body=f"The chairs extended the deadline of this paper to {when}.",
        )
    return paper


# --- The PDF check -----------------------------------------------------------------------------------


def paper_format_rules(*, workshop: Workshop) -> pdfcheck.FormatRules:
    return pdfcheck.FormatRules(
        page_limit=workshop.page_limit,
        references_excluded=workshop.references_excluded,
        paper_size=workshop.paper_size,
        double_column=workshop.double_column,
        body_font_pt=workshop.body_font_pt,
        text_block_in=(workshop.text_block_width_in, workshop.text_block_height_in),
    )


def paper_identity(*, paper: Paper) -> pdfcheck.Identity:
    authors = list(paper.authors.all())
    return pdfcheck.Identity(
        names=tuple(a.name for a in authors),
        emails=tuple(a.email for a in authors),
        affiliations=tuple({a.affiliation for a in authors if a.affiliation}),
        not_identities=pdfcheck.parse_word_list(paper.workshop.pdf_not_identities),
    )


def paper_version_check(*, version_id: int, notify: bool = True) -> PaperVersion | None:
    """Runs the PDF check of one version, writes its review copy when it passes, and moves a draft
    paper to SUBMITTED. Running it twice for the same version does nothing the second time."""
    version = PaperVersion.objects.select_related("paper__workshop").filter(pk=version_id).first()
    if version is None or version.check_state != PaperVersion.CheckState.PENDING:
        return version
    paper = version.paper
    with tempfile.TemporaryDirectory(prefix="paper-check-") as tmp:
        source = Path(tmp) / "original.pdf"
        with version.original.open("rb") as src, open(source, "wb") as dst:
            for chunk in iter(lambda: src.read(1024 * 1024), b""):
                dst.write(chunk)
        review_copy = Path(tmp) / f"paper-{paper.number}.pdf"
        report = pdfcheck.check_isolated(
            source,
            rules=paper_format_rules(workshop=paper.workshop),
            identity=paper_identity(paper=paper),
            double_blind=paper.workshop.double_blind,
            max_pages=settings.PAPER_PDF_MAX_PAGES,
            review_copy=review_copy,
        )
        if report.errors or not review_copy.exists():
            review_copy = None
        with transaction.atomic():
            version = PaperVersion.objects.select_for_update().get(pk=version.pk)
            if version.check_state != PaperVersion.CheckState.PENDING:
                return version
            if review_copy is not None:
                with open(review_copy, "rb") as handle:
                    version.review_copy.save(review_copy.name, File(handle), save=False)
            version.check_report = report.as_dict()
            version.page_count = report.pages or None
            version.check_seconds = report.seconds
            version.checked_at = timezone.now()
            if report.errors:
                version.check_state = PaperVersion.CheckState.FAILED
            elif report.warnings:
                version.check_state = PaperVersion.CheckState.WARNINGS
            else:
                version.check_state = PaperVersion.CheckState.PASSED
            version.save()
            paper = Paper.objects.select_for_update().get(pk=paper.pk)
            verdict = version.get_check_state_display().lower()
            _log(
                paper,
                user=None,
                action=PaperChange.Action.PDF_CHECKED,
                summary=f"PDF version {version.number}: {verdict} "
                f"({len(report.errors)} errors, {len(report.warnings)} warnings)",
                details={"version": version.number, "state": version.check_state},
            )
            if version.is_usable and paper.status == Paper.Status.DRAFT:
                paper.status = Paper.Status.SUBMITTED
                paper.submitted_at = version.created_at
                paper.revision += 1
                paper.save()
                _log(
                    paper,
                    user=None,
                    action=PaperChange.Action.SUBMITTED,
                    summary=f"Submitted with PDF version {version.number}",
                )
            lines = [f"- {i['title']}: {i['message']}" for i in report.errors + report.warnings]
            if version.check_state == PaperVersion.CheckState.FAILED:
                body = (
                    f"PDF version {version.number} was refused:\n"
                    + "\n".join(lines)
                    + "\n\nUpload a corrected PDF before the deadline."
                    + (
                        ""
                        if paper.status != Paper.Status.DRAFT
                        else " Until then the paper is a draft and is not submitted."
                    )
                )
            else:
                body = (
                    f"PDF version {version.number} passed the checks"
                    + (" with warnings:\n" + "\n".join(lines) if lines else ".")
                    + f"\nThe paper is {paper.get_status_display().lower()}."
                )
            if notify:
                paper_notify_authors(paper=paper, subject=f"PDF check: {verdict}", body=body)
    return version


# --- Co-authors linked on sign-up -------------------------------------------------------------------------


def paper_authors_link_user(*, user, email: str) -> int:
    """Links the author rows with this (confirmed) address to the account; returns how many."""
    count = 0
    for author in PaperAuthor.objects.filter(email__iexact=email, user__isnull=True).select_related("paper"):
        author.user = user
        author.save(update_fields=["user"])
        _log(
            author.paper,
            user=user,
            action=PaperChange.Action.AUTHOR_LINKED,
            summary=f"{author.name} linked the account {email}",
        )
        count += 1
    return count
