"""A conversion (an uploaded model → a .tflite for a track or for shapes given by hand, with its report)
and a track's calibration set (representative inputs an organiser uploads for INT8 calibration)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


def private_storage():
    """Uploaded and converted models are private: only their owner (pages, API) reads them."""
    from django.core.files.storage import storages

    return storages["private"]


def source_path(instance: Conversion, filename: str) -> str:
    return f"conversion/{instance.uid}/source{instance.source_suffix}"


def result_path(instance: Conversion, filename: str) -> str:
    return f"conversion/{instance.uid}/{filename}"


def calibration_path(instance: CalibrationSet, filename: str) -> str:
    return f"conversion/calibration/{instance.challenge_id}/{uuid.uuid4().hex}-{filename[-80:]}"


class CalibrationSet(models.Model):
    """Representative inputs of a track for INT8 calibration (.npz, .npy or a zip of images), uploaded
    by its organisers; checked against the track's input shape at upload. The newest one is used; without
    one, the released training or validation inputs are."""

    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="calibration_sets"
    )
    file = models.FileField(upload_to=calibration_path, storage=private_storage, max_length=300)
    original_name = models.CharField(max_length=200)
    samples = models.PositiveIntegerField(default=0)
    sample_shape = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.challenge}: {self.original_name} ({self.samples} samples)"


class Conversion(models.Model):
    """One conversion request: queued → running → done / failed (each failure with its reason)."""

    class SourceFormat(models.TextChoices):
        KERAS = "keras", "Keras (.keras, .h5)"
        SAVEDMODEL = "savedmodel", "TensorFlow SavedModel (zip)"
        PT2 = "pt2", "PyTorch exported program (.pt2)"
        ONNX = "onnx", "ONNX (.onnx)"

    class OutputKind(models.TextChoices):
        FLOAT32 = "float32", "float32"
        FLOAT16 = "float16", "float16 weights"
        DYNAMIC_RANGE = "dynamic_range", "dynamic-range (INT8 weights, float activations)"
        INT8 = "int8", "full-integer INT8, uint8 input and output"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Converting"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversions")
    challenge = models.ForeignKey(
        "challenges.Challenge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_format = models.CharField(max_length=20, choices=SourceFormat.choices)
    source_name = models.CharField(max_length=200)
    source_suffix = models.CharField(max_length=20, default="")
    source_size = models.BigIntegerField(default=0)
    source_file = models.FileField(upload_to=source_path, storage=private_storage, max_length=300)
    output_kind = models.CharField(max_length=20, choices=OutputKind.choices)
    dynamic_copy = models.BooleanField(default=False)
    input_shape = models.JSONField(default=list)
    output_shape = models.JSONField(default=list, blank=True, help_text="Expected output shape; empty: any.")
    input_range = models.JSONField(default=list)
    contract = models.JSONField(
        default=dict, blank=True, help_text="The track's contract ({} without a track)."
    )
    calibration_source = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_message = models.TextField(blank=True)
    log = models.TextField(blank=True)
    result_file = models.FileField(upload_to=result_path, storage=private_storage, blank=True, max_length=300)
    dynamic_file = models.FileField(
        upload_to=result_path, storage=private_storage, blank=True, max_length=300
    )
    result_size = models.BigIntegerField(default=0)
    model_info = models.JSONField(default=dict, blank=True)
    contract_problems = models.JSONField(default=list, blank=True)
    delegate_report = models.JSONField(default=dict, blank=True)
    fidelity = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    runtime_job = models.ForeignKey(
        "evaluation.RuntimeJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source_name} → {self.get_output_kind_display()} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return reverse("conversion:detail", args=[self.uid])

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def result_name(self) -> str:
        stem = self.source_name.rsplit(".", 1)[0][:80] or "model"
        return f"{stem}_{self.output_kind}.tflite"
