"""Reads of conversion (never writing): the formats this site converts right now, the tracks one can
convert for, a user's conversions, a track's calibration data and target device, the limits."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from challenges import timeline
from challenges.models import Challenge, DataFile
from challenges.selectors import timeline_for

from .models import CalibrationSet, Conversion


@dataclass(frozen=True)
class SourceFormat:
    code: str
    label: str
    suffixes: tuple[str, ...]
    converter: str
    available: bool
    why_not: str = ""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


ONNX_WHY_NOT = (
    "ONNX models are not converted on this site: onnx2tf, the converter for them, needs numpy 1.26, "
    "TensorFlow 2.19 and ai-edge-litert 2.1, which do not install next to this site's numpy 2.4, "
    "TensorFlow 2.21 and LiteRT 2.3. Export the model from PyTorch as an exported program (.pt2) instead, "
    "or convert it to a SavedModel on your own machine (onnx2tf -i model.onnx -osd) and upload that "
    "folder zipped."
)
PT2_WHY_NOT = (
    "PyTorch models are not converted on this site right now: its optional PyTorch converter (torch 2.13 "
    "with Google's litert-torch and ai-edge-quantizer, the “convert” extra) is not installed here. Export "
    "the model to a Keras model or a SavedModel on your machine and upload that."
)
# The modules the `.pt2` branch of the sandboxed child imports (found, never imported here).
PT2_MODULES = ("torch", "litert_torch", "ai_edge_quantizer")


def pt2_available() -> bool:
    """Whether the optional PyTorch converter is installed (checked at run time, without importing it)."""
    return all(_installed(m) for m in PT2_MODULES)


def source_formats() -> list[SourceFormat]:
    """Every format the page mentions, with whether this site converts it right now."""
    return [
        SourceFormat(
            "keras",
            "Keras model",
            (".keras", ".h5"),
            "TensorFlow's TFLiteConverter",
            _installed("tensorflow"),
        ),
        SourceFormat(
            "savedmodel",
            "TensorFlow SavedModel (the folder, zipped)",
            (".zip",),
            "TensorFlow's TFLiteConverter",
            _installed("tensorflow"),
        ),
        # litert-torch is the optional "convert" extra (it downgrades typing_extensions and anyio, see
        # docs/architecture.md): accepted where it is installed, refused with a message where not.
        SourceFormat(
            "pt2",
            "PyTorch exported program (torch.export.save)",
            (".pt2",),
            "Google's litert-torch and ai-edge-quantizer",
            pt2_available(),
            "" if pt2_available() else PT2_WHY_NOT,
        ),
        SourceFormat("onnx", "ONNX", (".onnx",), "onnx2tf", False, ONNX_WHY_NOT),
    ]


def accepted_formats() -> list[SourceFormat]:
    return [f for f in source_formats() if f.available]


def max_upload_bytes() -> int:
    return int(settings.CONVERSION_MAX_UPLOAD_BYTES)


def conversion_get(*, uid) -> Conversion | None:
    return (
        Conversion.objects.select_related("challenge__workshop", "owner", "runtime_job")
        .filter(uid=uid)
        .first()
    )


def conversion_get_by_pk(*, pk: int) -> Conversion | None:
    return Conversion.objects.select_related("challenge__workshop").filter(pk=pk).first()


def conversion_list_for_user(*, user) -> QuerySet[Conversion]:
    return Conversion.objects.filter(owner=user).select_related("challenge").order_by("-created_at")


def conversion_tracks(*, user=None) -> list[Challenge]:
    """Tracks with a contract (an input shape) of public editions (hidden ones too for staff), newest
    editions first."""
    tracks = Challenge.objects.select_related("workshop").order_by("-workshop__start_date", "order", "title")
    if not (user is not None and user.is_staff):
        tracks = tracks.filter(workshop__is_public=True)
    return [c for c in tracks if c.input_shape]


def track_get(*, pk) -> Challenge | None:
    try:
        return Challenge.objects.select_related("workshop").filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def calibration_set_latest(*, challenge: Challenge) -> CalibrationSet | None:
    return CalibrationSet.objects.filter(challenge=challenge).first()


def calibration_sets_for(*, challenge: Challenge) -> list[CalibrationSet]:
    return list(CalibrationSet.objects.filter(challenge=challenge))


def calibration_sources(*, challenge: Challenge, now=None) -> list[tuple[str, str]]:
    """[(label, private storage name)] of the data INT8 calibration uses, best first: the organisers'
    newest calibration set, else the released validation inputs (never ground truth or test data)."""
    latest = calibration_set_latest(challenge=challenge)
    if latest is not None:
        return [(f"calibration set {latest.original_name}", latest.file.name)]
    now = now or timezone.now()
    if DataFile.Split.VALIDATION_INPUT not in timeline.downloadable_splits(timeline_for(challenge), now):
        return []
    files = DataFile.objects.filter(challenge=challenge, split=DataFile.Split.VALIDATION_INPUT).exclude(
        file=""
    )
    return [(f"released validation file “{f.title}”", f.file.name) for f in files]


def target_device_for(*, challenge: Challenge | None):
    """(device slug, accelerator) the track's runtime is measured on (final-phase settings)."""
    if challenge is None:
        return "", ""
    from challenges.finalphase.selectors import final_settings_for

    final = final_settings_for(challenge=challenge)
    return final.device_slug, final.accelerator


def active_conversions(*, user) -> int:
    return Conversion.objects.filter(
        owner=user, state__in=[Conversion.State.QUEUED, Conversion.State.RUNNING]
    ).count()
