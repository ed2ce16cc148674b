"""Writes of conversion: a conversion from upload to report, the track's calibration sets, and what a
finished conversion is used for (a runtime check on the track's device, a final submission).

A conversion's life (every state has an owner and a deadline):
  `conversion_create` (format, shapes, output kind and calibration checked at once; the upload stored
  privately; `conversion.run` queued on `scoring` through the dispatch outbox) → queued
  → `conversion_run` (the task; takes its attempt under a row lock, a redelivered message for a finished
  conversion does nothing) → running → the sandbox converts and runs both models → intake of the result
  with evaluation's `inspect_model` and the track's contract → done (report stored) or failed (reason).
  `conversions_sweep_stale` (beat) re-sends a queued conversion whose message was lost and requeues or
  fails one left running past its time limit.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from challenges import metrics
from challenges.finalphase.fidelity import FidelityError
from challenges.models import Challenge
from common.dispatch import dispatch, dispatch_history, ref_for
from common.sandbox import SandboxCrash, SandboxError, SandboxTimeout, run_sandboxed
from evaluation.tflite import (
    ModelRejected,
    ShapeError,
    contract_shape_hints,
    format_bytes,
    format_shape,
    inspect_model,
    parse_shape,
    validate_against_contract,
)

from . import selectors
from .delegates import delegate_report
from .models import CalibrationSet, Conversion

logger = logging.getLogger(__name__)

RUN_TASK = "conversion.run"
CHILD = "conversion._convert_child:convert"
CALIBRATION_CHILD = "conversion._calibration_child:read"
CALIBRATION_TIME_LIMIT_S = 120
CALIBRATION_MEMORY_MB = 4096
CALIBRATION_MAX_UNCOMPRESSED = 2 * 2**30  # a calibration set is a few hundred samples, not gigabytes
PICKLE_MESSAGE = (
    "This is a pickled PyTorch checkpoint; loading one runs the Python code it carries, so this site "
    "never opens it. Export the model as an exported program instead: "
    "ep = torch.export.export(model, (torch.randn(1, 3, H, W),)) then torch.export.save(ep, 'model.pt2'), "
    "and upload model.pt2."
)


class ConversionRefused(ValidationError):
    """The request cannot be accepted; `.messages` say what to fix. Nothing was stored."""


# --- Creating a conversion --------------------------------------------------------------------------


def _detect_format(name: str, head: bytes) -> str:
    """The format of an upload from its name and first bytes; refuses what is not converted here."""
    lower = name.lower()
    formats = {f.code: f for f in selectors.source_formats()}
    if lower.endswith((".pt", ".pth", ".pkl", ".ckpt", ".bin")):
        raise ConversionRefused([PICKLE_MESSAGE], code="pickle")
    if lower.endswith(".pt2"):
        if not _is_exported_program(head):
            raise ConversionRefused(
                [
                    "This .pt2 file is not a PyTorch exported program (it is not the zip that "
                    "torch.export.save writes). " + PICKLE_MESSAGE
                ],
                code="pickle",
            )
        fmt = "pt2"
    elif lower.endswith(".onnx"):
        if not head.startswith(b"\x08"):  # an ONNX ModelProto starts with ir_version (field 1, varint)
            raise ConversionRefused(
                [
                    "This file is not an ONNX model (an ONNX file is a protobuf ModelProto starting with "
                    "its IR version). " + formats["onnx"].why_not
                ],
                code="format",
            )
        fmt = "onnx"
    elif lower.endswith(".keras"):
        if not head.startswith(b"PK"):
            raise ConversionRefused(
                ["This is not a Keras .keras file (a .keras file is a zip written by model.save)."],
                code="format",
            )
        fmt = "keras"
    elif lower.endswith(".h5"):
        if not head.startswith(b"\x89HDF\r\n\x1a\n"):
            raise ConversionRefused(["This is not an HDF5 (.h5) Keras model."], code="format")
        fmt = "keras"
    elif lower.endswith(".zip"):
        if not head.startswith(b"PK"):
            raise ConversionRefused(["This .zip file is not a zip archive."], code="format")
        fmt = "savedmodel"
    elif lower.endswith(".tflite"):
        raise ConversionRefused(
            ["This is already a TFLite model: use “Check my runtime” or submit it directly."], code="format"
        )
    else:
        accepted = ", ".join(s for f in selectors.accepted_formats() for s in f.suffixes)
        raise ConversionRefused(
            [f"“{name[:80]}” is not a model format converted here; accepted: {accepted}."], code="format"
        )
    if not formats[fmt].available:
        raise ConversionRefused([formats[fmt].why_not], code="format")
    return fmt


def _is_exported_program(head: bytes) -> bool:
    return head.startswith(b"PK")


def _read(upload) -> bytes:
    limit = selectors.max_upload_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ConversionRefused(
            [f"The model file is {format_bytes(size)}; at most {format_bytes(limit)} is converted here."],
            code="too_big",
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ConversionRefused([f"The model file is larger than {format_bytes(limit)}."], code="too_big")
    if not data:
        raise ConversionRefused(["The model file is empty (0 bytes)."], code="empty")
    return data


def _shape(text: str, label: str) -> list[int]:
    try:
        return parse_shape(text)
    except ShapeError as exc:
        raise ConversionRefused([f"{label}: {exc.message}"], code="shape") from None


def conversion_create(
    *,
    owner,
    upload,
    output_kind: str,
    challenge: Challenge | None = None,
    input_shape: str = "",
    output_shape: str = "",
    dynamic_copy: bool = False,
) -> Conversion:
    """Checks the request, stores the upload and queues the conversion (sent after commit). Raises
    `ConversionRefused` whose `.messages` say what to fix; nothing is stored then."""
    from challenges.finalphase.services.submissions import contract_for

    if output_kind not in Conversion.OutputKind.values:
        raise ConversionRefused([f"“{output_kind}” is not an output kind offered here."], code="kind")
    name = Path(getattr(upload, "name", "") or "model").name[-200:]
    data = _read(upload)
    fmt = _detect_format(name, data[:16])
    if fmt == "pt2" and dynamic_copy:
        raise ConversionRefused(
            [
                "A dynamic-size copy is made from Keras models and SavedModels only; convert the PyTorch "
                "model without it."
            ],
            code="shape",
        )
    contract: dict = {}
    if challenge is not None:
        if not challenge.input_shape:
            raise ConversionRefused([f"{challenge.title} has no model contract yet."], code="shape")
        in_shape = [int(d) for d in challenge.input_shape]
        out_shape = [int(d) for d in challenge.output_shape or []]
        value_range = [challenge.value_range_min, challenge.value_range_max]
        contract = contract_for(challenge)
    else:
        if not input_shape.strip():
            raise ConversionRefused(
                ["Pick a track, or give the input shape to convert at (for example 1x480x720x3)."],
                code="shape",
            )
        in_shape = _shape(input_shape, "Input shape")
        out_shape = _shape(output_shape, "Output shape") if output_shape.strip() else []
        value_range = [0.0, 255.0]
    if dynamic_copy and len(in_shape) != 4:
        raise ConversionRefused(
            [
                f"A dynamic-size copy frees height and width of a 1×H×W×C input; this input is {format_shape(in_shape)}."
            ],
            code="shape",
        )
    calibration = ""
    if output_kind == Conversion.OutputKind.INT8:
        if challenge is None:
            raise ConversionRefused(
                ["Full-integer INT8 is calibrated on a track's representative data: pick the track."],
                code="calibration",
            )
        sources = selectors.calibration_sources(challenge=challenge)
        if not sources:
            raise ConversionRefused(
                [
                    f"{challenge.title} has no calibration data yet (no calibration set from the organisers and no "
                    "released validation inputs). Choose a float output, or wait for the data."
                ],
                code="calibration",
            )
        calibration = sources[0][0][:300]
    if selectors.active_conversions(user=owner) >= int(settings.CONVERSION_MAX_ACTIVE):
        raise ConversionRefused(
            [
                f"You already have {settings.CONVERSION_MAX_ACTIVE} conversions queued or running; wait for one to finish."
            ],
            code="rate_limited",
        )
    with transaction.atomic():
        conversion = Conversion(
            owner=owner,
            challenge=challenge,
            source_format=fmt,
            source_name=name,
            source_suffix=Path(name).suffix.lower()[:20],
            source_size=len(data),
            output_kind=output_kind,
            dynamic_copy=bool(dynamic_copy),
            input_shape=in_shape,
            output_shape=out_shape,
            input_range=value_range,
            contract=contract,
            calibration_source=calibration,
        )
        conversion.source_file.save("source", ContentFile(data), save=False)
        conversion.save()
        dispatch(RUN_TASK, args=[conversion.pk], queue="scoring", ref=ref_for(conversion))
    return conversion


# --- Running it (the task) ------------------------------------------------------------------------------


def _start(conversion_id: int) -> tuple[Conversion, int] | None:
    with transaction.atomic():
        conversion = Conversion.objects.select_for_update().filter(pk=conversion_id).first()
        if conversion is None or conversion.finished:
            return None
        if conversion.attempts >= int(settings.CONVERSION_MAX_ATTEMPTS):
            _fail(
                conversion,
                f"The conversion was started {conversion.attempts} times without finishing (the "
                "worker stopped each time); it was given up. Try a smaller model or a float output.",
            )
            return None
        conversion.state = Conversion.State.RUNNING
        conversion.attempts += 1
        conversion.started_at = timezone.now()
        conversion.save(update_fields=["state", "attempts", "started_at"])
        return conversion, conversion.attempts


def _fail(conversion: Conversion, message: str, *, log: str = "") -> None:
    conversion.state = Conversion.State.FAILED
    conversion.error_message = message
    conversion.log = (log or "")[-20000:]
    conversion.finished_at = timezone.now()
    conversion.save(update_fields=["state", "error_message", "log", "finished_at"])


def _calibration_samples(conversion: Conversion) -> np.ndarray | None:
    """The track's representative inputs as one float32 stack N×H×W×C, checked against the input shape
    (read in the sandbox: the file is untrusted)."""
    if conversion.challenge is None:
        return None
    sources = selectors.calibration_sources(challenge=conversion.challenge)
    if not sources:
        return None
    label, name = sources[0]
    storage = storages["private"]
    with storage.open(name, "rb") as fh:
        data = fh.read()
    return calibration_read(Path(name).name, data, list(conversion.input_shape), label=label)


def calibration_read(name: str, data: bytes, input_shape: list[int], *, label: str) -> np.ndarray:
    """The samples of a calibration file as one float32 stack N×H×W×C, unpacked, decoded and checked
    against `input_shape` only in the sandbox (`_calibration_child`, under CALIBRATION_TIME_LIMIT_S and
    CALIBRATION_MEMORY_MB). Raises `FidelityError` with the reason for whoever uploaded the file."""
    with tempfile.TemporaryDirectory(prefix="mai-calibration-") as tmp:
        source, out = Path(tmp) / "source", Path(tmp) / "samples.npy"
        source.write_bytes(data)
        request = {
            "path": str(source),
            "name": name,
            "label": label,
            "input_shape": [int(d) for d in input_shape],
            "out_path": str(out),
            "max_uncompressed_bytes": CALIBRATION_MAX_UNCOMPRESSED,
        }
        try:
            result, _log = run_sandboxed(
                CALIBRATION_CHILD,
                request,
                time_limit_s=CALIBRATION_TIME_LIMIT_S,
                memory_limit_mb=CALIBRATION_MEMORY_MB,
            )
        except SandboxTimeout:
            raise FidelityError(
                f"The calibration file {name} could not be read within {CALIBRATION_TIME_LIMIT_S} s."
            ) from None
        except SandboxCrash:
            raise FidelityError(
                f"Reading the calibration file {name} needed more than {CALIBRATION_MEMORY_MB} MB of "
                "memory or crashed the reader; upload fewer or smaller samples."
            ) from None
        except SandboxError as exc:
            raise FidelityError(f"The calibration file {name} cannot be read ({exc.message}).") from None
        if "refused" in result:
            raise FidelityError(result["refused"])
        return np.load(out, allow_pickle=False)


def conversion_run(*, conversion_id: int) -> None:
    """The task's work: converts in the sandbox, checks the result, stores the report. Idempotent."""
    started = _start(conversion_id)
    if started is None:
        return
    conversion, attempt = started
    try:
        outcome = _convert(conversion)
    except _Failed as exc:
        with transaction.atomic():
            current = Conversion.objects.select_for_update().get(pk=conversion.pk)
            if current.attempts == attempt and not current.finished:
                _fail(current, exc.message, log=exc.log)
        return
    with transaction.atomic():
        current = Conversion.objects.select_for_update().get(pk=conversion.pk)
        if current.attempts != attempt or current.finished:
            return  # a later attempt owns it, or it ended meanwhile
        _store_result(current, outcome)


class _Failed(Exception):
    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.message, self.log = message, log


def _convert(conversion: Conversion) -> dict:
    limit_s = float(settings.CONVERSION_TIME_LIMIT_S)
    with tempfile.TemporaryDirectory(prefix="mai-convert-") as tmp:
        work = Path(tmp)
        source = work / f"source{conversion.source_suffix or '.bin'}"
        with conversion.source_file.open("rb") as fh:
            source.write_bytes(fh.read())
        calibration_path = None
        try:
            samples = _calibration_samples(conversion)
        except FidelityError as exc:
            raise _Failed(exc.message) from None
        if samples is not None:
            calibration_path = work / "calibration.npy"
            np.save(calibration_path, samples[: int(settings.CONVERSION_MAX_CALIBRATION_SAMPLES)])
        request = {
            "source_path": str(source),
            "source_format": conversion.source_format,
            "work_dir": str(work),
            "input_shape": conversion.input_shape,
            "expected_output_shape": conversion.output_shape or None,
            "input_range": conversion.input_range,
            "output_kind": conversion.output_kind,
            "dynamic_copy": conversion.dynamic_copy,
            "calibration_path": str(calibration_path) if calibration_path else None,
            "fidelity_samples": int(settings.CONVERSION_FIDELITY_SAMPLES),
            "max_calibration_samples": int(settings.CONVERSION_MAX_CALIBRATION_SAMPLES),
        }
        try:
            result, log = run_sandboxed(
                CHILD, request, time_limit_s=limit_s, memory_limit_mb=int(settings.CONVERSION_MEMORY_MB)
            )
        except SandboxTimeout as exc:
            raise _Failed(
                f"The conversion ran past the time limit of {limit_s:g} s and was stopped. Convert a smaller "
                "model, or a float output (INT8 calibration runs the model on every calibration sample).",
                exc.log,
            ) from None
        except SandboxCrash as exc:
            raise _Failed(
                f"The converter died ({exc.signal_name}), most likely out of the {settings.CONVERSION_MEMORY_MB} MB "
                "of memory a conversion may use: the model is too large to convert here.",
                exc.log,
            ) from None
        except SandboxError as exc:
            if exc.error_type == "ConversionRefused":
                raise _Failed(exc.message, exc.log) from None
            if exc.error_type == "MemoryError" or "ResourceExhausted" in exc.error_type:
                raise _Failed(
                    f"The model does not fit in the {settings.CONVERSION_MEMORY_MB} MB of memory a conversion "
                    "may use: it is too large to convert here.",
                    exc.log,
                ) from None
            first = (exc.message or "").strip().splitlines()[0][:400] if exc.message.strip() else ""
            raise _Failed(
                f"The model could not be loaded or converted ({exc.error_type}: {first}).", exc.log
            ) from None
        model = Path(result["model_path"]).read_bytes()
        dynamic = Path(result["dynamic_path"]).read_bytes() if result.get("dynamic_path") else None
        with np.load(result["outputs_path"], allow_pickle=False) as npz:
            outputs = {k: npz[k] for k in npz.files}
    return {"model": model, "dynamic": dynamic, "outputs": outputs, "result": result, "log": log}


def fidelity_report(outputs: dict[str, np.ndarray], *, data_range: float) -> dict:
    """Original against converted outputs per sample: PSNR and SSIM for images (H×W×C), top-1
    agreement for class scores (a vector), the largest absolute difference for anything else."""
    pairs = sorted(
        (
            (int(k.split("_")[1]), outputs[k], outputs[f"converted_{k.split('_')[1]}"])
            for k in outputs
            if k.startswith("original_")
        ),
        key=lambda p: p[0],
    )
    if not pairs:
        return {"kind": "none", "samples": 0}
    first = pairs[0][1]
    if first.ndim == 3:
        psnrs = [metrics.psnr(a, b, data_range=data_range) for _, a, b in pairs]
        ssims = [metrics.ssim(a, b, data_range=data_range) for _, a, b in pairs]
        finite = [p for p in psnrs if np.isfinite(p)]
        return {
            "kind": "image",
            "samples": len(pairs),
            "data_range": data_range,
            "psnr": float(np.mean(finite)) if finite else None,  # None: identical outputs (∞ dB)
            "psnr_min": float(min(finite)) if finite else None,
            "ssim": float(np.mean(ssims)),
            "per_sample": [
                {"psnr": p if np.isfinite(p) else None, "ssim": s} for p, s in zip(psnrs, ssims, strict=True)
            ],
        }
    if first.ndim == 1:
        agree = [int(np.argmax(a) == np.argmax(b)) for _, a, b in pairs]
        return {
            "kind": "classification",
            "samples": len(pairs),
            "top1_agreement": float(np.mean(agree)),
            "agreeing": int(sum(agree)),
            "max_abs_diff": float(max(np.max(np.abs(a - b)) for _, a, b in pairs)),
        }
    return {
        "kind": "other",
        "samples": len(pairs),
        "max_abs_diff": float(max(np.max(np.abs(a - b)) for _, a, b in pairs)),
    }


def _store_result(conversion: Conversion, outcome: dict) -> None:
    from challenges.finalphase.services.submissions import contract_for

    model, dynamic = outcome["model"], outcome["dynamic"]
    contract = conversion.contract or {"inputs": [{"shape": conversion.input_shape, "dtype": None}]}
    try:
        info = inspect_model(model, shape_hints=contract_shape_hints(contract))
        problems = validate_against_contract(info, conversion.contract or None)
        if dynamic is not None:
            dynamic_info = inspect_model(dynamic, shape_hints=contract_shape_hints(contract))
            dynamic_contract = (
                contract_for(conversion.challenge, dynamic=True) if conversion.challenge else None
            )
            problems += [
                f"Dynamic-size copy: {p}" for p in validate_against_contract(dynamic_info, dynamic_contract)
            ]
    except ModelRejected as exc:
        _fail(
            conversion,
            f"The converted model does not pass this site's model intake: {exc.message}",
            log=outcome["log"],
        )
        return
    slug, accelerator = selectors.target_device_for(challenge=conversion.challenge)
    span = float(conversion.input_range[1] - conversion.input_range[0]) if conversion.input_range else 255.0
    conversion.result_file.save(conversion.result_name, ContentFile(model), save=False)
    if dynamic is not None:
        conversion.dynamic_file.save(
            conversion.result_name.replace(".tflite", "_dynamic.tflite"), ContentFile(dynamic), save=False
        )
    conversion.result_size = len(model)
    conversion.model_info = info.as_dict()
    conversion.contract_problems = problems
    conversion.delegate_report = {
        "device": slug,
        **delegate_report(info.operators, accelerator=accelerator, kind=info.kind),
    }
    conversion.fidelity = {
        **fidelity_report(outcome["outputs"], data_range=span or 255.0),
        "calibration_samples": outcome["result"].get("calibration_samples", 0),
        **({"source_layout": outcome["result"]["layout"]} if outcome["result"].get("layout") else {}),
    }
    conversion.timings = {**outcome["result"].get("seconds", {}), "peak_mb": outcome["result"].get("peak_mb")}
    conversion.log = outcome["log"][-20000:]
    conversion.state = Conversion.State.DONE
    conversion.finished_at = timezone.now()
    conversion.save()


# --- Using the result ---------------------------------------------------------------------------------


def conversion_result_bytes(*, conversion: Conversion, dynamic: bool = False) -> bytes:
    field = conversion.dynamic_file if dynamic else conversion.result_file
    with field.open("rb") as fh:
        return fh.read()


def conversion_check_runtime(*, conversion: Conversion, user):
    """A runtime check of the converted model on the track's device (host CPU without a track), through
    evaluation's `runtime_job_create` (the same checks and limits as an upload). Raises
    `evaluation.services.RuntimeJobRefused`."""
    from evaluation.services import runtime_job_create

    if conversion.state != Conversion.State.DONE:
        raise ConversionRefused(["The conversion has not finished."], code="not_done")
    slug, accelerator = selectors.target_device_for(challenge=conversion.challenge)
    if not slug:
        slug, accelerator = "host-cpu", "xnnpack"
    job = runtime_job_create(
        owner=user,
        model_file=conversion_result_bytes(conversion=conversion),
        model_name=conversion.result_name,
        device=slug,
        accelerator=accelerator,
        contract=conversion.contract or None,
    )
    Conversion.objects.filter(pk=conversion.pk).update(runtime_job=job)
    return job


def conversion_submit_final(*, conversion: Conversion, user, now: dt.datetime | None = None):
    """The converted model (and its dynamic-size copy) as the team's final submission, through the final
    phase's `model_submission_create` (its phase, team, limit and contract rules). Raises
    `FinalPhaseRefused`."""
    from challenges.finalphase.services.submissions import model_submission_create

    if conversion.state != Conversion.State.DONE or conversion.challenge is None:
        raise ConversionRefused(["Only a finished conversion for a track can be submitted."], code="not_done")
    model = SimpleUploadedFile("model.tflite", conversion_result_bytes(conversion=conversion))
    dynamic = (
        SimpleUploadedFile(
            "model_dynamic.tflite", conversion_result_bytes(conversion=conversion, dynamic=True)
        )
        if conversion.dynamic_file
        else None
    )
    return model_submission_create(
        challenge=conversion.challenge,
        user=user,
        model_file=model,
        dynamic_model_file=dynamic,
        method_name=f"Converted from {conversion.source_name}"[:200],
        now=now,
    )


# --- Calibration sets ---------------------------------------------------------------------------------


def calibration_set_create(*, challenge: Challenge, user, upload) -> CalibrationSet:
    """An organiser's representative inputs for the track (.npz, .npy or a zip of images or .npy
    files), refused unless every sample has the track's input shape."""
    if not challenge.input_shape:
        raise ConversionRefused([f"{challenge.title} has no model contract yet: set its input shape first."])
    name = Path(getattr(upload, "name", "") or "calibration").name[-200:]
    data = _read(upload)
    try:
        stack = calibration_read(name, data, list(challenge.input_shape), label=f"calibration set {name}")
    except FidelityError as exc:
        raise ConversionRefused([exc.message], code="calibration") from None
    calibration = CalibrationSet(
        challenge=challenge,
        original_name=name,
        samples=len(stack),
        sample_shape=list(stack.shape[1:]),
        uploaded_by=user,
    )
    calibration.file.save(name, ContentFile(data), save=False)
    calibration.save()
    return calibration


# --- The sweep ----------------------------------------------------------------------------------------


def conversions_sweep_stale(*, now: dt.datetime | None = None) -> dict:
    """Beat: a conversion left running past its time limit + grace (its worker died) is queued again,
    or failed after the last attempt; a queued one whose message was sent but never picked up within
    the grace is sent again. Returns counts."""
    now = now or timezone.now()
    grace = dt.timedelta(
        seconds=float(settings.CONVERSION_TIME_LIMIT_S) + float(settings.CONVERSION_STALE_GRACE_S)
    )
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    stale = Conversion.objects.filter(state=Conversion.State.RUNNING, started_at__lt=now - grace)
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            conversion = Conversion.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if conversion is None or conversion.state != Conversion.State.RUNNING:
                continue
            if conversion.attempts >= int(settings.CONVERSION_MAX_ATTEMPTS):
                _fail(
                    conversion,
                    f"The worker converting this model stopped {conversion.attempts} times; it was given up.",
                )
                counts["failed"] += 1
                continue
            conversion.state = Conversion.State.QUEUED
            conversion.save(update_fields=["state"])
            dispatch(RUN_TASK, args=[conversion.pk], queue="scoring", ref=ref_for(conversion))
            counts["requeued"] += 1
    lost = Conversion.objects.filter(
        state=Conversion.State.QUEUED,
        created_at__lt=now - dt.timedelta(seconds=float(settings.CONVERSION_STALE_GRACE_S)),
    )
    for conversion in lost:
        history = dispatch_history(ref_for(conversion), task=RUN_TASK)
        if history.pending:
            continue  # still waiting for the broker: the dispatcher owns it
        if history.count >= int(settings.CONVERSION_MAX_ATTEMPTS):
            _fail(conversion, "No worker picked this conversion up; it was given up. Try again later.")
            counts["failed"] += 1
            continue
        if history.last_sent_at and history.last_sent_at < now - grace:
            dispatch(RUN_TASK, args=[conversion.pk], queue="scoring", ref=ref_for(conversion))
            counts["resent"] += 1
    return counts
