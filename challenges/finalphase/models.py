"""Final-phase models: a track's final-phase settings (score formula and constants, which submission
counts, visibility, target device), model submissions with their fidelity and runtime measurements and
score, fact sheets and code submissions.

What is open when comes from `challenges.timeline`; the rules built on it live in `visibility.py`,
writes in `services/` (one module per concern), reads in `selectors.py`."""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse


def private_storage():
    # Looked up when the field uses it (settings read at call time), not when models are imported.
    from django.core.files.storage import storages

    return storages["private"]


def _final_path(instance, filename: str, kind: str) -> str:
    return (
        f"challenges/{instance.challenge_id}/final/{instance.team_id}/{kind}/"
        f"{secrets.token_hex(8)}-{filename}"
    )


def model_path(instance, filename):
    return _final_path(instance, filename, "model")


def dynamic_model_path(instance, filename):
    return _final_path(instance, filename, "dynamic")


def results_path(instance, filename):
    return _final_path(instance, filename, "results")


def factsheet_path(instance, filename):
    return _final_path(instance, filename, "factsheet")


def code_path(instance, filename):
    return _final_path(instance, filename, "code")


class FinalPhaseSettings(models.Model):
    """Organiser settings of one track's final phase (created on first use with MAI's defaults)."""

    class CountingPolicy(models.TextChoices):
        LAST_VALID = "last_valid", "The team's last valid submission before the deadline"
        TEAM_SELECTED = "team_selected", "The submission the team selects"

    challenge = models.OneToOneField(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="final_settings"
    )
    score_formula = models.CharField(
        max_length=500,
        default="2 ** (2 * psnr) / (C * runtime_ms)",
        help_text="An expression over psnr, ssim, accuracy_top1, accuracy_top3, si_rmse, rmse, runtime_ms, "
        "memory_mb, power_w, energy_mj and the constants below; + - * / ** and log, exp, sqrt, min, max.",
    )
    constants = models.JSONField(default=dict, blank=True, help_text='Named constants, e.g. {"C": 1.0}.')
    counting_policy = models.CharField(
        max_length=20, choices=CountingPolicy.choices, default=CountingPolicy.LAST_VALID
    )
    show_own_results_early = models.BooleanField(
        default=False, help_text="Teams see their own submissions' numbers before the results are released."
    )
    public_after_workshop = models.BooleanField(
        default=False, help_text="Anyone may see the final leaderboard once the workshop is over."
    )
    requires_dynamic_model = models.BooleanField(
        default=False, help_text="Teams also submit a model with dynamic input size for full-resolution runs."
    )
    fidelity_input_shape = models.JSONField(
        default=list,
        blank=True,
        help_text="Shape the dynamic model's input is resized to for fidelity, e.g. [1, 1088, 1920, 4]; "
        "empty: each test input's own shape.",
    )
    device_slug = models.SlugField(default="host-cpu", help_text="The target device runtime is measured on.")
    accelerator = models.CharField(max_length=20, default="xnnpack")
    threads = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(64)]
    )
    timed_runs = models.PositiveSmallIntegerField(default=20, validators=[MinValueValidator(1)])
    fidelity_time_limit_s = models.PositiveIntegerField(default=600, validators=[MinValueValidator(1)])
    max_submissions = models.PositiveSmallIntegerField(
        default=3, help_text="Valid final submissions per team; failed ones do not count."
    )
    max_model_mb = models.PositiveIntegerField(default=200)
    max_code_mb = models.PositiveIntegerField(default=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "final-phase settings"
        verbose_name_plural = "final-phase settings"

    def __str__(self) -> str:
        return f"Final phase of {self.challenge}"


class ModelSubmission(models.Model):
    """A team's final-phase model. Fidelity (on the hidden test data, `scoring` queue) and runtime (on
    the target device, through `evaluation`) run in parallel; the score is computed when both are done.

    Status: checking → running → done | failed. Failed submissions do not count against the limit."""

    class Status(models.TextChoices):
        RUNNING = "running", "Measuring"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Step(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not run (the other measurement failed)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="model_submissions"
    )
    team = models.ForeignKey("challenges.Team", on_delete=models.CASCADE, related_name="model_submissions")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    model = models.FileField(upload_to=model_path, storage=private_storage, max_length=300)
    model_size = models.BigIntegerField(default=0)
    model_sha256 = models.CharField(max_length=64, blank=True)
    model_info = models.JSONField(default=dict, blank=True, help_text="What intake read from the model.")
    dynamic_model = models.FileField(
        upload_to=dynamic_model_path, storage=private_storage, blank=True, max_length=300
    )
    results = models.FileField(upload_to=results_path, storage=private_storage, blank=True, max_length=300)
    method_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True, help_text="Why the submission failed, in words for the team.")
    fidelity_status = models.CharField(max_length=10, choices=Step.choices, default=Step.QUEUED)
    fidelity_error = models.TextField(blank=True)
    fidelity_progress = models.CharField(max_length=100, blank=True, help_text='e.g. "3 of 10 test inputs"')
    fidelity_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current fidelity attempt started (its sweep deadline and id).",
    )
    metrics = models.JSONField(
        default=dict, blank=True, help_text="{metric key: value} on the hidden test data"
    )
    runtime_status = models.CharField(max_length=10, choices=Step.choices, default=Step.QUEUED)
    runtime_error = models.TextField(blank=True)
    runtime_job_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The evaluation runtime job measuring this model."
    )
    runtime_ms = models.FloatField(null=True, blank=True)
    memory_mb = models.FloatField(null=True, blank=True)
    power_w = models.FloatField(null=True, blank=True)
    energy_mj = models.FloatField(
        null=True,
        blank=True,
        help_text="Energy per inference above idle (mJ), where the device measures power.",
    )
    device_name = models.CharField(max_length=200, blank=True)
    score = models.FloatField(null=True, blank=True)
    score_error = models.CharField(max_length=300, blank=True)
    selected = models.BooleanField(default=False, help_text="The team's choice (when the team selects).")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["challenge", "team", "status"])]

    def __str__(self) -> str:
        return f"{self.team} final #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse(
            "finalphase:submission",
            kwargs={
                "workshop": self.challenge.workshop.slug,
                "challenge": self.challenge.slug,
                "pk": self.public_id,
            },
        )

    @property
    def is_final_state(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def quantities(self) -> dict[str, float | None]:
        """Everything the score formula may use."""
        values = {k: v for k, v in (self.metrics or {}).items() if isinstance(v, int | float)}
        for short, name in (("top1", "accuracy_top1"), ("top3", "accuracy_top3")):
            if short in values:
                values.setdefault(name, values[short])
        values.update(
            runtime_ms=self.runtime_ms,
            memory_mb=self.memory_mb,
            power_w=self.power_w,
            energy_mj=self.energy_mj,
        )
        return values


class FactSheet(models.Model):
    """A team's fact sheet for one challenge (one per team; edited until the fact-sheet deadline)."""

    challenge = models.ForeignKey("challenges.Challenge", on_delete=models.CASCADE, related_name="factsheets")
    team = models.OneToOneField("challenges.Team", on_delete=models.CASCADE, related_name="factsheet")
    team_name = models.CharField(max_length=120)
    members = models.JSONField(default=list, help_text='[{"name": …, "affiliation": …, "email": …}, …]')
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    method_title = models.CharField(max_length=300)
    method_description = models.TextField()
    architecture_training = models.TextField("Architecture and training details")
    training_data_hardware = models.TextField("Training data and hardware")
    runtime_observations = models.TextField(blank=True)
    links = models.TextField(blank=True, help_text="One URL per line (code, paper, project page).")
    attachment = models.FileField(
        upload_to=factsheet_path,
        storage=private_storage,
        blank=True,
        max_length=300,
        help_text="Optional LaTeX source (.tex/.zip) or PDF of the fact sheet.",
    )
    attachment_name = models.CharField(max_length=255, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team_name"]

    def __str__(self) -> str:
        return f"Fact sheet of {self.team_name}"

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]


class CodeSubmission(models.Model):
    """A team's code: an archive upload or a repository URL (one per team, replaced on re-upload)."""

    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="code_submissions"
    )
    team = models.OneToOneField("challenges.Team", on_delete=models.CASCADE, related_name="code_submission")
    archive = models.FileField(upload_to=code_path, storage=private_storage, blank=True, max_length=300)
    archive_name = models.CharField(max_length=255, blank=True)
    archive_size = models.BigIntegerField(default=0)
    repository_url = models.URLField(blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(archive="", repository_url=""), name="code_archive_or_url"
            )
        ]

    def __str__(self) -> str:
        return f"Code of {self.team}"
