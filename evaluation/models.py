"""Devices, the hosts that drive them, and runtime jobs (a model measured on one device)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from .runners.base import Accelerator


def private_storage():
    """Models are private: only the owner (pages, API) and the device (a signed URL) ever read them."""
    # Looked up when the field uses it (settings read at call time), not when models are imported.
    from django.core.files.storage import storages

    return storages["private"]


def runtime_job_model_path(job: RuntimeJob, filename: str) -> str:
    return f"evaluation/jobs/{job.uid}/model.tflite"


class DeviceHost(models.Model):
    """A machine that runs `manage.py device_worker` for one or more devices, known by its token.

    The token is the host's name signed with the site's key (`evaluation.tokens`); disabling the host
    here revokes it."""

    name = models.SlugField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    address = models.CharField(max_length=200, blank=True, help_text="Where the host last reported from.")
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="operated_device_hosts",
        help_text="Device operators: they may pause, drain and resume this host's devices.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A phone, a board or this host's CPU that measures models. Devices of the same `group` are twins:
    a job for a device that is offline goes to an online twin."""

    class Transport(models.TextChoices):
        LOCAL = "local", "This host (LiteRT)"
        ADB = "adb", "Android over adb"
        SSH = "ssh", "Linux board over SSH"

    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        BUSY = "busy", "Busy"
        OFFLINE = "offline", "Offline"

    class Platform(models.TextChoices):
        LINUX = "linux", "Linux"
        ANDROID = "android", "Android"

    class OperatorState(models.TextChoices):
        """What the device's operator allows: `paused` takes no job; `draining` finishes the jobs already
        queued for it, takes no new one, and pauses itself once its queue is empty."""

        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        DRAINING = "draining", "Draining"

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.LINUX)
    soc = models.CharField("SoC", max_length=200, blank=True)
    accelerators = models.JSONField(default=list, help_text='Accelerator codes, e.g. ["cpu", "xnnpack"].')
    transport = models.CharField(max_length=10, choices=Transport.choices, default=Transport.LOCAL)
    host = models.CharField(max_length=200, blank=True, help_text="Name of the host machine that drives it.")
    device_host = models.ForeignKey(
        DeviceHost, on_delete=models.SET_NULL, null=True, blank=True, related_name="devices"
    )
    group = models.SlugField(
        max_length=100,
        blank=True,
        help_text="Devices with the same group are twins (same model of phone or board).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFLINE)
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True, help_text="Disabled devices are hidden and take no jobs.")
    operator_state = models.CharField(
        max_length=10,
        choices=OperatorState.choices,
        default=OperatorState.ACTIVE,
        help_text="Paused: takes no job. Draining: runs the jobs already queued, then pauses.",
    )
    operator_state_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The lease: the one job (and attempt) this device runs now, taken by `runtime_job_claim`, renewed by
    # the running worker, released by the report; free once it expires or its job has finished.
    lease_job = models.ForeignKey(
        "RuntimeJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    lease_attempt = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    lease_holder = models.CharField(
        max_length=300, blank=True, editable=False, help_text="The worker process holding the lease."
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def queue(self) -> str:
        return f"device.{self.slug}"

    @property
    def twin_group(self) -> str:
        return self.group or self.slug

    def accelerator_labels(self) -> list[str]:
        return [Accelerator.LABELS.get(a, a) for a in self.accelerators]


class RuntimeJob(models.Model):
    """One measurement: a model on a device with an accelerator and options. States: queued → running →
    done | failed; a device lost mid-run puts the job back to queued (attempts counts the tries)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINISHED = (State.DONE, State.FAILED)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runtime_jobs", null=True, blank=True
    )
    purpose = models.CharField(
        max_length=40,
        default="check",
        help_text='Who asked: "check" (Check my runtime) or an app\'s own label.',
    )
    model_file = models.FileField(storage=private_storage, upload_to=runtime_job_model_path, max_length=300)
    model_name = models.CharField(max_length=200, help_text="The file name the participant uploaded.")
    model_size = models.PositiveBigIntegerField(default=0)
    model_info = models.JSONField(
        default=dict, blank=True, help_text="What intake found (evaluation.tflite)."
    )
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="jobs")
    requested_device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The device asked for, when a twin took the job.",
    )
    accelerator = models.CharField(
        max_length=20, choices=[(a, Accelerator.LABELS[a]) for a in Accelerator.ALL]
    )
    options = models.JSONField(default=dict, blank=True)
    input_shapes = models.JSONField(
        default=list,
        blank=True,
        help_text="The shape each input runs at (declared, dynamic batch at 1, free dimensions as asked).",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Results
    init_ms = models.FloatField(null=True, blank=True)
    first_inference_ms = models.FloatField(null=True, blank=True)
    mean_ms = models.FloatField(null=True, blank=True)
    median_ms = models.FloatField(null=True, blank=True)
    std_ms = models.FloatField(null=True, blank=True)
    min_ms = models.FloatField(null=True, blank=True)
    max_ms = models.FloatField(null=True, blank=True)
    peak_memory_mb = models.FloatField(null=True, blank=True)
    fully_delegated = models.BooleanField(null=True, blank=True)
    runs = models.PositiveIntegerField(null=True, blank=True)
    power_w = models.FloatField(null=True, blank=True)
    # Measurement depth: the distribution over every timed run of every repetition, the 95% confidence
    # interval of the mean (Student t), energy, throttling, and the detail as JSON (profile, repetitions
    # with temperatures, power samples, the reproducibility record).
    p5_ms = models.FloatField(null=True, blank=True)
    p95_ms = models.FloatField(null=True, blank=True)
    ci95_low_ms = models.FloatField(null=True, blank=True)
    ci95_high_ms = models.FloatField(null=True, blank=True)
    energy_mj = models.FloatField(
        null=True, blank=True, help_text="Energy per inference (mJ), estimated from the battery gauge."
    )
    throttled = models.BooleanField(null=True, blank=True)
    profile = models.JSONField(
        default=dict, blank=True, help_text="Per-operator profile (evaluation.profiling)."
    )
    repetitions = models.JSONField(
        default=list, blank=True, help_text="One entry per repetition: latencies summary and temperatures."
    )
    power = models.JSONField(
        default=dict, blank=True, help_text="Power measurement: baseline, samples, source."
    )
    reproducibility = models.JSONField(default=dict, blank=True)
    runtime_version = models.CharField(max_length=200, blank=True)
    raw_log = models.TextField(blank=True)
    error_message = models.TextField(blank=True)
    # Times
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The worker that ran the last attempt.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["device", "state", "created_at"])]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.model_name} on {self.device_id})"

    def get_absolute_url(self) -> str:
        return reverse("evaluation:job-detail", kwargs={"uid": self.uid})

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def accelerator_label(self) -> str:
        return Accelerator.LABELS.get(self.accelerator, self.accelerator)

    @property
    def input_shape_display(self) -> str:
        """ "1×224×224×3" (or every input's shape joined by " and "): the shape the model ran at."""
        return " and ".join("×".join(str(d) for d in shape) for shape in self.input_shapes or [] if shape)

    @property
    def duration_s(self) -> float | None:
        if self.finished_at and self.created_at:
            return (self.finished_at - self.created_at).total_seconds()
        return None
