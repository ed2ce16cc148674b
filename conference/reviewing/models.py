"""Reviewing models: the edition's review settings, the committee (invitations, reviewer profiles),
conflicts of interest, bids, assignments, reviews, discussion, meta-reviews and decisions.

Identity rules: nothing here stores an author's identity (that stays in `conference.PaperAuthor`);
reviewers are shown to others only through `Assignment.number` ("Reviewer 1..n").
"""

import secrets

from django.conf import settings
from django.db import models

from conference.models import Membership, Paper, Topic, Workshop, private_storage


def new_token() -> str:
    return secrets.token_urlsafe(24)


DEFAULT_NOTIFICATION_SUBJECT = "[{workshop}] Decision on paper #{number}: {decision}"
DEFAULT_NOTIFICATION_BODY = """Dear authors,

The review of your paper #{number} "{title}" submitted to {workshop} is complete.
Decision: {decision}.

The reviews are available at {url}

Best regards,
The {workshop} chairs
"""


class ReviewSettings(models.Model):
    """The chair's settings of one edition's review process."""

    workshop = models.OneToOneField(Workshop, on_delete=models.CASCADE, related_name="review_settings")
    reviewers_per_paper = models.PositiveSmallIntegerField(default=3)
    default_max_load = models.PositiveSmallIntegerField(default=6)
    default_min_load = models.PositiveSmallIntegerField(
        default=0, help_text="Papers every reviewer should get at least (when a full assignment allows it)."
    )
    bidding_open = models.BooleanField(default=True)
    review_deadline = models.DateTimeField(null=True, blank=True)
    reminder_every_hours = models.PositiveSmallIntegerField(default=48)
    bid_weight = models.FloatField(default=1.0)
    topic_weight = models.FloatField(default=0.5)
    text_weight = models.FloatField(default=0.5)
    notification_subject = models.CharField(max_length=300, default=DEFAULT_NOTIFICATION_SUBJECT)
    notification_body = models.TextField(default=DEFAULT_NOTIFICATION_BODY)
    last_run = models.JSONField(default=dict, blank=True, help_text="Summary of the last assignment run.")

    def __str__(self) -> str:
        return f"Review settings of {self.workshop}"


class Invitation(models.Model):
    """An invitation to join an edition's committee. Single-use and bound to `email`: only an account
    with a verified copy of that address accepts it (anyone holding the link may decline)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Membership.Role.choices, default=Membership.Role.REVIEWER)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "email", "role"], name="unique_invitation"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()}, {self.get_state_display()})"


class ReviewerProfile(models.Model):
    """What a committee member states for one edition: expertise, load, declared conflicts."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="reviewer_profiles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profiles"
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="+")
    expertise = models.TextField(
        blank=True, help_text="Your research in a few sentences, or abstracts of your recent papers."
    )
    max_load = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Papers you can review.")
    min_load = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Papers this reviewer should get at least (set by a chair)."
    )
    conflict_institutions = models.JSONField(default=list, blank=True)
    conflict_domains = models.JSONField(default=list, blank=True)
    conflict_emails = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workshop", "user"], name="unique_reviewer_profile")]

    def __str__(self) -> str:
        return f"Reviewer profile of {self.user} in {self.workshop}"


class Conflict(models.Model):
    """A conflict of interest between a paper and a committee member.

    Declared ones (by an author or by the reviewer) are confirmed at once; detected ones are
    suggestions that count as conflicts until the chair dismisses them (with a reason). A dismissed
    conflict stays dismissed when detection runs again, because detection never touches a row that
    exists already.
    """

    class Source(models.TextChoices):
        AUTHOR = "author", "Declared by an author"
        REVIEWER = "reviewer", "Declared by the reviewer"
        DOMAIN = "domain", "Same institution domain"
        AFFILIATION = "affiliation", "Same affiliation"
        COAUTHOR = "coauthor", "Co-author on another paper of the edition"
        AUTHOR_SELF = "self", "Author of the paper"
        CHAIR = "chair", "Set by a chair"

    class State(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="conflicts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_conflicts"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SUGGESTED)
    evidence = models.CharField(max_length=500, blank=True, help_text="Shown to chairs only.")
    reason = models.TextField(blank=True, help_text="The chair's reason for confirming or dismissing.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paper", "user", "source"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "user", "source"], name="unique_conflict_source"),
        ]

    def __str__(self) -> str:
        return f"Conflict #{self.paper.number} × {self.user} ({self.source}, {self.state})"


class Bid(models.Model):
    class Value(models.TextChoices):
        EAGER = "eager", "Eager"
        WILLING = "willing", "Willing"
        NOT_WILLING = "not_willing", "Not willing"
        CONFLICT = "conflict", "In conflict"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="bids")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bids")
    value = models.CharField(max_length=20, choices=Value.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["paper", "user"], name="unique_bid")]

    def __str__(self) -> str:
        return f"{self.user} on #{self.paper.number}: {self.value}"


class Assignment(models.Model):
    """A reviewer on a paper. PROPOSED rows are the chair's preview (replaced at every run);
    COMMITTED rows are kept by re-runs. `number` is the reviewer's pseudonym on the paper."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        COMMITTED = "committed", "Committed"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_assignments"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    number = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Reviewer <number> on this paper."
    )
    affinity = models.FloatField(default=0)
    manual = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["paper", "number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "user"], name="unique_assignment"),
            models.UniqueConstraint(fields=["paper", "number"], name="unique_reviewer_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.paper.number} ← {self.user} ({self.state})"

    @property
    def pseudonym(self) -> str:
        return f"Reviewer {self.number}" if self.number else "Reviewer"


class Review(models.Model):
    """One review; a draft until submitted. Rating scale as CVPR 2021's."""

    class Rating(models.IntegerChoices):
        STRONG_REJECT = 1, "1: Strong reject"
        WEAK_REJECT = 2, "2: Weak reject"
        BORDERLINE = 3, "3: Borderline"
        WEAK_ACCEPT = 4, "4: Weak accept"
        STRONG_ACCEPT = 5, "5: Strong accept"

    class Confidence(models.IntegerChoices):
        NOT_CONFIDENT = 1, "1: Not confident"
        SOMEWHAT = 2, "2: Somewhat confident"
        CONFIDENT = 3, "3: Confident"
        EXPERT = 4, "4: Very confident (expert)"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="review")
    rating = models.PositiveSmallIntegerField(choices=Rating.choices, null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(choices=Confidence.choices, null=True, blank=True)
    strengths = models.TextField(blank=True)
    weaknesses = models.TextField(blank=True)
    justification = models.TextField(blank=True, help_text="Why this rating.")
    comments_to_authors = models.TextField(blank=True)
    confidential_comments = models.TextField(blank=True, help_text="Seen by the chairs only.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Review of #{self.assignment.paper.number} by {self.assignment.pseudonym} ({self.state})"


class Comment(models.Model):
    """A message of a paper's discussion among its reviewers and the chairs."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="review_comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    shown_as = models.CharField(max_length=40, help_text="Reviewer n or Chair, fixed when posted.")
    text = models.TextField(max_length=10000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.shown_as} on #{self.paper.number}"


class MetaReview(models.Model):
    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="meta_review")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    text = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Meta-review of #{self.paper.number}"


class Decision(models.Model):
    """The chair's decision; authors learn it (and read the reviews) only once `released_at` is set."""

    class Outcome(models.TextChoices):
        ACCEPT = "accept", "Accept"
        REJECT = "reject", "Reject"

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="decision")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    decided_at = models.DateTimeField(auto_now=True)
    released_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"#{self.paper.number}: {self.outcome}"


class AssignmentRun(models.Model):
    """One computation of the automatic assignment, run by a Celery task (never inside a request).

    State machine (owner: `assignment_services`): queued → running → done | failed; done → committed
    when the chair commits its proposal. At most one run per edition is queued or running. A running
    run shows a sign of life (`heartbeat_at`) every few seconds; a queued run not picked up in time, or
    a running one silent for too long or past its `deadline`, is marked failed by the sweep (and by the
    progress page itself) with the reason.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        COMMITTED = "committed", "Committed"

    ACTIVE = (State.QUEUED, State.RUNNING)

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="assignment_runs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    options = models.JSONField(default=dict, help_text="k, loads, balance: what the chair asked for.")
    stage = models.CharField(max_length=200, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    summary = models.JSONField(default=dict, blank=True)
    proposal = models.JSONField(
        default=list, blank=True, help_text="The pairs the run proposed: [paper id, user id, affinity]."
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True, help_text="Marked failed if still running then.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_active_assignment_run",
            )
        ]

    def __str__(self) -> str:
        return f"Assignment run {self.pk} of {self.workshop} ({self.state})"

    @property
    def active(self) -> bool:
        return self.state in self.ACTIVE


def supplementary_copy_path(instance: "SupplementaryCopy", filename: str) -> str:
    paper = instance.version.paper
    extension = "zip" if filename.lower().endswith(".zip") else "pdf"
    return (
        f"reviewing/supplementary/{paper.workshop_id}/{paper.id}/v{instance.version.number}/"
        f"paper-{paper.number}-supplementary.{extension}"
    )


class SupplementaryCopy(models.Model):
    """The supplementary material as reviewers get it: anonymised in the sandbox from the stored
    upload (`source_name`), made on the first request and kept; or the reason it could not be."""

    version = models.OneToOneField(
        "conference.PaperVersion", on_delete=models.CASCADE, related_name="reviewer_supplementary"
    )
    source_name = models.CharField(max_length=300)
    file = models.FileField(
        storage=private_storage, upload_to=supplementary_copy_path, max_length=300, blank=True
    )
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    made_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Supplementary copy of {self.version}"
