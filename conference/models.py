"""Workshop editions, their topics, organisers and dates; people (profiles, roles); the mail outbox."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as America/Los_Angeles.")


class Workshop(models.Model):
    """One edition of a workshop (MAI 2021, MAI 2022…), reached under its own URL prefix."""

    slug = models.SlugField(unique=True, help_text="URL prefix, e.g. mai-2021.")
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40)
    host_conference = models.CharField(max_length=100, help_text="e.g. CVPR 2021")
    host_conference_url = models.URLField(blank=True)
    location = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    time_zone = models.CharField(
        max_length=64, default="America/Los_Angeles", validators=[validate_time_zone]
    )
    description = models.TextField(blank=True)
    call_for_papers = models.TextField(
        blank=True,
        help_text="The call for papers in Markdown (sanitised when shown), above the topics and rules.",
    )
    # Format rules
    page_limit = models.PositiveSmallIntegerField(default=8)
    references_excluded = models.BooleanField(default=True, help_text="References do not count.")
    double_column = models.BooleanField(default=True)
    paper_size = models.CharField(max_length=20, default="US Letter")
    template_url = models.URLField(blank=True)
    language = models.CharField(max_length=40, default="English")
    # Policies
    double_blind = models.BooleanField(default=True)
    dual_submission_with_host_allowed = models.BooleanField(
        default=True, help_text="Dual submission is allowed only with the host conference."
    )
    dual_submission_policy = models.TextField(blank=True)
    submission_grace_minutes = models.PositiveIntegerField(
        default=0, help_text="Grace period after every paper deadline, enforced by the server."
    )
    body_font_pt = models.FloatField(default=10, help_text="Body font size the PDF check expects.")
    text_block_width_in = models.FloatField(default=6.875, help_text="Text block width (inches).")
    text_block_height_in = models.FloatField(default=8.875, help_text="Text block height (inches).")
    pdf_not_identities = models.TextField(
        blank=True,
        help_text=(
            "Words and phrases the anonymity check never takes for an author's identity, one per line "
            "or comma-separated: device makers, SoCs, datasets (e.g. Samsung, Exynos, MediaTek, DIV2K). "
            "An affiliation is still flagged where it appears with more than these words."
        ),
    )
    is_public = models.BooleanField(default=True)

    class Meta:
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return self.short_name

    def get_absolute_url(self) -> str:
        return reverse("conference:workshop", kwargs={"workshop": self.slug})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Topic(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "name"], name="unique_topic_name")]

    def __str__(self) -> str:
        return self.name


class Organiser(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="organisers")
    name = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=300)
    email = models.EmailField(blank=True)
    homepage = models.URLField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.affiliation})"


class ImportantDate(models.Model):
    """A dated event of the workshop's paper track. Challenge milestones come from `challenges`."""

    class Kind(models.TextChoices):
        SUBMISSION_OPEN = "submission_open", "Paper submission server online"
        PAPER_DEADLINE = "paper_deadline", "Paper submission deadline"
        CHALLENGE_PAPER_DEADLINE = "challenge_paper_deadline", "Challenge paper submission deadline"
        REVIEW_DEADLINE = "review_deadline", "Review deadline"
        NOTIFICATION = "notification", "Paper decision notification"
        CAMERA_READY = "camera_ready", "Camera-ready deadline"
        WORKSHOP = "workshop", "Workshop day"
        OTHER = "other", "Other"

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="dates")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    label = models.CharField(max_length=200, blank=True, help_text="Defaults to the kind's name.")
    at = models.DateTimeField(help_text="Entered in the workshop's time zone.")

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.title} — {self.at:%Y-%m-%d %H:%M %Z}"

    @property
    def title(self) -> str:
        return self.label or self.get_kind_display()


class Membership(models.Model):
    """A user's role in one edition."""

    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        AREA_CHAIR = "area_chair", "Area chair"
        REVIEWER = "reviewer", "Reviewer"

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workshop", "user", "role"], name="unique_membership_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.workshop}"


domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z]{2,}$", "Enter a domain such as ethz.ch (no @, no http://)."
)


class Profile(models.Model):
    """What a person tells us about themselves; all of it feeds conflict-of-interest detection."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    full_name = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=300, blank=True)
    country = models.CharField(max_length=100, blank=True)
    other_emails = models.JSONField(default=list, blank=True, help_text="Other addresses, confirmed or not.")
    institution_domains = models.JSONField(
        default=list, blank=True, help_text="e.g. ethz.ch, vision.ee.ethz.ch"
    )

    def __str__(self) -> str:
        return self.full_name or self.user.get_username()

    def all_emails(self) -> list[str]:
        """Every address the person listed, confirmed or not, lower-cased and unique."""
        addresses = [self.user.email, *self.other_emails]
        addresses += [e.email for e in self.user.emailaddress_set.all()]
        seen: dict[str, None] = {}
        for address in addresses:
            if address:
                seen.setdefault(address.strip().lower(), None)
        return list(seen)

    def all_domains(self) -> list[str]:
        domains = {email.rsplit("@", 1)[-1] for email in self.all_emails() if "@" in email}
        domains |= {d.strip().lower() for d in self.institution_domains if d.strip()}
        return sorted(domains)


class OutgoingMail(models.Model):
    """The outbox: a row per e-mail, sent by a Celery task; the state makes a redelivered task a no-op."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.JSONField(help_text="List of recipient addresses.")
    subject = models.CharField(max_length=500)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    from_email = models.CharField(max_length=300, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)} ({self.state})"


# --- Papers --------------------------------------------------------------------------------------


def private_storage():
    """The storage of files that are never served directly (papers, supplementary material)."""
    return storages["private"]


def paper_original_path(instance: "PaperVersion", filename: str) -> str:
    # Only ids in the path: the author's own file name is kept in `original_name`, never on disk.
    return f"papers/{instance.paper.workshop_id}/{instance.paper_id}/v{instance.number}/original.pdf"


def paper_review_copy_path(instance: "PaperVersion", filename: str) -> str:
    return (
        f"papers/{instance.paper.workshop_id}/{instance.paper_id}/v{instance.number}/"
        f"paper-{instance.paper.number}.pdf"
    )


def paper_supplementary_path(instance: "PaperVersion", filename: str) -> str:
    extension = "zip" if filename.lower().endswith(".zip") else "pdf"
    return (
        f"papers/{instance.paper.workshop_id}/{instance.paper_id}/v{instance.number}/"
        f"paper-{instance.paper.number}-supplementary.{extension}"
    )


class Paper(models.Model):
    """A paper submitted to one workshop edition, numbered per edition (1, 2, 3…).

    Lifecycle (`status`), owned by this app except the decision:
    - DRAFT: created, but no uploaded version has passed the blocking PDF checks yet (the check is
      pending or found an error). A draft is not a submission: it does not go to review.
    - SUBMITTED: at least one version passed the blocking checks; `paper_current_version` is the
      newest such version.
    - WITHDRAWN: withdrawn by an author (or a chair); kept, never deleted.
    - ACCEPTED / REJECTED: set only by `conference.reviewing` (its decision service) on SUBMITTED
      papers; this app never sets them.

    Author identity lives ONLY in: `PaperAuthor` (name, email, affiliation, user), `Paper.submitter`,
    `PaperVersion.original` (the uploaded file with its metadata), `PaperVersion.original_name`,
    `PaperVersion.uploaded_by`, `PaperVersion.supplementary` (authors' own material, unchecked) and
    `PaperChange.user`/`PaperChange.details`. Everything a reviewer may see: title, abstract,
    topics, kind, challenge, number, and the review copy (`selectors.paper_review_file`).
    """

    class Kind(models.TextChoices):
        REGULAR = "regular", "Regular paper"
        CHALLENGE = "challenge", "Challenge paper"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (PDF not accepted yet)"
        SUBMITTED = "submitted", "Submitted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="papers")
    number = models.PositiveIntegerField(help_text="Paper number within the edition.")
    title = models.CharField(max_length=300)
    abstract = models.TextField(max_length=5000)
    topics = models.ManyToManyField(Topic, related_name="papers", blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REGULAR)
    challenge = models.ForeignKey(
        "challenges.Challenge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="papers",
        help_text="The challenge a challenge paper describes a solution of; empty for regular papers.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    dual_submission = models.BooleanField(
        default=False, help_text="Also submitted to the host conference's main track."
    )
    dual_submission_id = models.CharField(
        max_length=100, blank=True, help_text="The main-conference submission ID."
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="submitted_papers"
    )
    deadline_extended_until = models.DateTimeField(
        null=True, blank=True, help_text="A chair's per-paper extension of the submission deadline."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    revision = models.PositiveIntegerField(
        default=0,
        help_text="Incremented on every change; an edit form made from an older revision is refused.",
    )
    submission_token = models.UUIDField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="The submit form's one-time token: the same form posted twice creates one paper.",
    )

    class Meta:
        ordering = ["workshop", "number"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "number"], name="unique_paper_number"),
            models.CheckConstraint(
                condition=models.Q(kind="regular", challenge__isnull=True)
                | models.Q(kind="challenge", challenge__isnull=False),
                name="paper_challenge_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("conference:paper", kwargs={"workshop": self.workshop.slug, "number": self.number})


class PaperAuthor(models.Model):
    """One author of a paper, in order. `user` is set when the address belongs to an account
    (at submission, or later when the co-author signs up and confirms that address)."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="authors")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    email = models.EmailField()
    affiliation = models.CharField(max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="paper_authorships",
    )
    invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["paper", "order"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "email"], name="unique_paper_author_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class PaperVersion(models.Model):
    """One uploaded PDF of a paper, kept forever; the newest version that passed the blocking checks
    is the paper's current one. `review_copy` is the anonymised copy reviewers get (metadata
    stripped, neutral name paper-<number>.pdf); `check_report` is the PDF check's result."""

    class CheckState(models.TextChoices):
        PENDING = "pending", "Checking"
        PASSED = "passed", "Passed"
        WARNINGS = "warnings", "Passed with warnings"
        FAILED = "failed", "Refused"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    original = models.FileField(storage=private_storage, upload_to=paper_original_path, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    review_copy = models.FileField(
        storage=private_storage, upload_to=paper_review_copy_path, max_length=300, blank=True
    )
    supplementary = models.FileField(
        storage=private_storage, upload_to=paper_supplementary_path, max_length=300, blank=True
    )
    page_count = models.PositiveIntegerField(null=True, blank=True)
    check_state = models.CharField(max_length=20, choices=CheckState.choices, default=CheckState.PENDING)
    check_report = models.JSONField(default=dict, blank=True)
    check_seconds = models.FloatField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paper", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "number"], name="unique_paper_version_number"),
        ]

    def __str__(self) -> str:
        return f"Paper #{self.paper.number} version {self.number}"

    @property
    def is_usable(self) -> bool:
        return self.check_state in (self.CheckState.PASSED, self.CheckState.WARNINGS)


class PaperChange(models.Model):
    """The change log of a paper: who did what, when (shown to its authors and the chairs)."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        PDF_UPLOADED = "pdf_uploaded", "PDF uploaded"
        PDF_CHECKED = "pdf_checked", "PDF checked"
        SUBMITTED = "submitted", "Submitted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXTENDED = "extended", "Deadline extended"
        AUTHOR_LINKED = "author_linked", "Author linked to account"
        DECISION = "decision", "Decision"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    summary = models.TextField()
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"#{self.paper.number} {self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"
