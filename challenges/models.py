"""Challenges (tracks) of a workshop edition, their milestone timeline, registrations, teams, data files and
validation-phase submissions.

What opens and closes when is not stored here: `challenges.timeline` derives it from the milestones and
the clock. Business rules live in `services.py` (writes) and `selectors.py` (reads).
"""

import secrets
import uuid

import markdown
import nh3
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.safestring import mark_safe


def render_markdown(text: str) -> str:
    """Markdown → HTML, sanitised with nh3 (no scripts, no event handlers, safe links only)."""
    html = markdown.markdown(text or "", extensions=["tables", "fenced_code", "sane_lists"])
    return mark_safe(nh3.clean(html))  # noqa: S308 - sanitised by nh3 just above


def default_metrics() -> list[dict]:
    return [
        {"key": "psnr", "label": "PSNR", "higher_is_better": True, "precision": 2},
        {"key": "ssim", "label": "SSIM", "higher_is_better": True, "precision": 4},
    ]


class Challenge(models.Model):
    """One track of a workshop edition, e.g. "Learned Smartphone ISP".

    The model contract (what a final-phase .tflite must look like) is a set of plain fields; see
    `contract` for the dict form. `metrics` is an ordered list of
    `{"key": "psnr", "label": "PSNR", "higher_is_better": true, "precision": 2}`; the first one ranks
    the leaderboard (ties: the other metrics in order, then the earlier submission).
    """

    class ResultFormat(models.TextChoices):
        IMAGES_ZIP = "images_zip", "Zip of output images named like the inputs"
        NPZ = "npz", ".npz archive with one array per input file"
        CSV = "csv", ".csv with one row per input file"

    class LeaderboardPolicy(models.TextChoices):
        BEST = "best", "The team's best submission"
        LATEST = "latest", "The team's latest submission"

    class PerFileScores(models.TextChoices):
        AUTO = "auto", "Shown, unless a metric reveals labels (accuracy, top-k)"
        SHOWN = "shown", "Shown to the team"
        HIDDEN = "hidden", "Hidden: the team sees its totals only"

    # Per-file scores of these metrics tell a team each hidden validation label (a file is right or
    # wrong): hidden by default.
    LABEL_REVEALING_METRICS = frozenset(
        {"top1", "top3", "top5", "accuracy", "accuracy_top1", "accuracy_top3"}
    )

    class DType(models.TextChoices):
        FLOAT32 = "float32", "float32"
        FLOAT16 = "float16", "float16"
        UINT8 = "uint8", "uint8"
        INT8 = "int8", "int8"
        INT32 = "int32", "int32"

    workshop = models.ForeignKey("conference.Workshop", on_delete=models.CASCADE, related_name="challenges")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    target_platform = models.CharField(
        max_length=200, blank=True, help_text='e.g. "MediaTek Dimensity 1000+, APU"'
    )
    order = models.PositiveSmallIntegerField(default=0)
    summary = models.CharField(max_length=300, blank=True, help_text="One line for the list of challenges.")
    description = models.TextField(blank=True, help_text="The task, in Markdown (sanitised when shown).")
    terms = models.TextField(
        blank=True, help_text="Terms of participation, in Markdown; accepted at registration."
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="organised_challenges",
        help_text="May manage this challenge without being workshop chairs.",
    )
    # Model contract (final phase)
    input_shape = models.JSONField(default=list, blank=True, help_text="e.g. [1, 544, 960, 4]")
    input_dtype = models.CharField(max_length=10, choices=DType.choices, default=DType.FLOAT32)
    output_shape = models.JSONField(default=list, blank=True, help_text="e.g. [1, 1088, 1920, 3]")
    output_dtype = models.CharField(max_length=10, choices=DType.choices, default=DType.FLOAT32)
    value_range_min = models.FloatField(default=0.0, help_text="Input values the model receives, lowest.")
    value_range_max = models.FloatField(default=255.0, help_text="Input values the model receives, highest.")
    int8_required = models.BooleanField(default=False, help_text="Full-integer INT8 quantisation required.")
    # Scoring
    result_format = models.CharField(
        max_length=20, choices=ResultFormat.choices, default=ResultFormat.IMAGES_ZIP
    )
    metrics = models.JSONField(default=default_metrics, blank=True)
    per_file_scores = models.CharField(
        max_length=10,
        choices=PerFileScores.choices,
        default=PerFileScores.AUTO,
        help_text="Whether a team sees its validation scores per file. Per-file accuracy reveals each "
        "hidden label, so by default it is shown only for metrics such as PSNR.",
    )
    score_formula = models.CharField(
        max_length=300, blank=True, help_text="Shown to participants, e.g. 2^(2·PSNR) / (C·runtime)."
    )
    # Participation
    requires_approval = models.BooleanField(default=False, help_text="Organisers approve each registration.")
    max_team_size = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1)])
    submissions_per_day = models.PositiveSmallIntegerField(default=5, help_text="Per team, per UTC day.")
    submissions_total = models.PositiveSmallIntegerField(default=100, help_text="Per team, per phase.")
    leaderboard_policy = models.CharField(
        max_length=10, choices=LeaderboardPolicy.choices, default=LeaderboardPolicy.BEST
    )
    grace_minutes = models.PositiveIntegerField(default=0, help_text="Grace after every closing milestone.")
    max_upload_mb = models.PositiveIntegerField(default=200, help_text="Largest result upload accepted.")
    max_uncompressed_mb = models.PositiveIntegerField(
        default=1024, help_text="Zip archives expanding past this are refused."
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "slug"], name="unique_challenge_slug")]

    def __str__(self) -> str:
        return f"{self.workshop.short_name}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("challenges:detail", kwargs={"workshop": self.workshop.slug, "challenge": self.slug})

    @property
    def description_html(self) -> str:
        return render_markdown(self.description)

    @property
    def terms_html(self) -> str:
        return render_markdown(self.terms)

    @property
    def contract(self) -> dict:
        """The model contract as a plain dict (what `evaluation` validates a .tflite against)."""
        return {
            "input_shape": list(self.input_shape or []),
            "input_dtype": self.input_dtype,
            "output_shape": list(self.output_shape or []),
            "output_dtype": self.output_dtype,
            "value_range": [self.value_range_min, self.value_range_max],
            "int8_required": self.int8_required,
        }

    @property
    def per_file_scores_visible(self) -> bool:
        """Whether teams see their validation scores per file (organisers always may, in the admin)."""
        if self.per_file_scores == self.PerFileScores.AUTO:
            return not any(m.get("key") in self.LABEL_REVEALING_METRICS for m in self.metrics or [])
        return self.per_file_scores == self.PerFileScores.SHOWN

    @property
    def primary_metric(self) -> dict | None:
        return self.metrics[0] if self.metrics else None


class Milestone(models.Model):
    """A dated step of a challenge's timeline; everything that opens or closes derives from these."""

    class Kind(models.TextChoices):
        WEBSITE_ONLINE = "website_online", "Website online"
        TRAIN_DATA = "train_data", "Train/validation data released"
        VALIDATION_SERVER = "validation_server", "Validation server online"
        TEST_DATA = "test_data", "Final test data released"
        FINAL_DEADLINE = "final_deadline", "Final models/results submission deadline"
        FACTSHEET_DEADLINE = "factsheet_deadline", "Fact sheets/codes submission deadline"
        PRELIMINARY_RESULTS = "preliminary_results", "Preliminary test results released to participants"
        CHALLENGE_PAPERS = "challenge_papers", "Challenge paper submission deadline"

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    at = models.DateTimeField(help_text="Entered in the workshop's time zone.")

    class Meta:
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["challenge", "kind"], name="unique_milestone_kind")]

    def __str__(self) -> str:
        return f"{self.challenge.title}: {self.get_kind_display()}"


class Registration(models.Model):
    """A participant's registration to a challenge: terms accepted, approved (at once, or by an organiser)."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_registrations"
    )
    accepted_terms_at = models.DateTimeField()
    approved = models.BooleanField(default=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["challenge", "user"], name="unique_registration")]

    def __str__(self) -> str:
        return f"{self.user} → {self.challenge}"


def new_join_code() -> str:
    return secrets.token_urlsafe(9)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Team(models.Model):
    """A team of one challenge; its name is what leaderboards show."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=80)
    join_code = models.CharField(max_length=32, unique=True, default=new_join_code)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), "challenge", name="unique_team_name_ci")]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """A user in a team. `challenge` repeats the team's so one user is in at most one team per challenge."""

    class Role(models.TextChoices):
        LEADER = "leader", "Leader"
        MEMBER = "member", "Member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at"]
        constraints = [models.UniqueConstraint(fields=["challenge", "user"], name="one_team_per_challenge")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class TeamInvitation(models.Model):
    """An invitation by e-mail; the link carries `token`."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True, default=new_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.team}"


def private_storage():
    # Looked up when the field uses it (settings read at call time), not when models are imported.
    from django.core.files.storage import storages

    return storages["private"]


def data_file_path(instance, filename: str) -> str:
    return f"challenges/{instance.challenge_id}/data/{instance.split}/{secrets.token_hex(8)}-{filename}"


def submission_file_path(instance, filename: str) -> str:
    return (
        f"challenges/{instance.challenge_id}/submissions/{instance.team_id}/{secrets.token_hex(8)}-{filename}"
    )


class DataFile(models.Model):
    """A data file of one split, stored privately (or an external URL for very large files).

    Inputs become downloadable to approved participants at their milestone (see `timeline`); ground
    truth never leaves the server: the scorer reads it, organisers may download it, nobody else.
    """

    class Split(models.TextChoices):
        TRAIN = "train", "Training data"
        VALIDATION_INPUT = "validation_input", "Validation inputs"
        VALIDATION_GT = "validation_gt", "Validation ground truth (private)"
        TEST_INPUT = "test_input", "Test inputs"
        TEST_GT = "test_gt", "Test ground truth (private)"

    GROUND_TRUTH = (Split.VALIDATION_GT, Split.TEST_GT)

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="data_files")
    split = models.CharField(max_length=20, choices=Split.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    file = models.FileField(upload_to=data_file_path, storage=private_storage, blank=True, max_length=300)
    external_url = models.URLField(blank=True, help_text="For very large files hosted elsewhere.")
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["split", "title"]

    def __str__(self) -> str:
        return f"{self.challenge.title}: {self.title} ({self.get_split_display()})"

    @property
    def is_ground_truth(self) -> bool:
        return self.split in self.GROUND_TRUTH


class Submission(models.Model):
    """A validation-phase submission: a team's result files, scored against hidden ground truth by a
    Celery task on the `scoring` queue. Failed scorings do not count against the team's limits."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SCORING = "scoring", "Scoring"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="submissions")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="submissions")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to=submission_file_path, storage=private_storage, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    method_name = models.CharField(max_length=200, blank=True)
    method_description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True, help_text="Why scoring failed, in words for the team.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Scoring runs started.")
    scores = models.JSONField(default=dict, blank=True, help_text="{metric key: value}")
    per_file = models.JSONField(default=list, blank=True, help_text='[{"name": …, metric key: value…}]')
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["challenge", "status"])]

    def __str__(self) -> str:
        return f"{self.team} #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse(
            "challenges:submission",
            kwargs={
                "workshop": self.challenge.workshop.slug,
                "challenge": self.challenge.slug,
                "pk": self.public_id,
            },
        )

    @property
    def is_final_state(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
