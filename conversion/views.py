"""Conversion pages: "Convert" (upload, track or shapes, output kind; the formats this site accepts now),
a conversion's page with its live status (htmx polling until it ends) and report, the downloads, the
two next steps (runtime check on the track's device, final submission), and the organisers' calibration
sets. Thin: the work is in `services`/`selectors`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.forms import add_refusal_to_messages, form_error_messages
from common.uploads import upload_limited, upload_refused
from evaluation.tflite import format_bytes

from . import selectors, services
from .forms import CalibrationSetForm, ConversionForm
from .models import Conversion


def _accept() -> str:
    return ",".join(s for f in selectors.accepted_formats() for s in f.suffixes)


def _page(request, *, form=None, status=200, errors=()):
    tracks = selectors.conversion_tracks(user=request.user)
    return render(
        request,
        "conversion/convert.html",
        {
            "form": form or ConversionForm(tracks=tracks, accept=_accept()),
            "errors": list(errors),
            "formats": selectors.source_formats(),
            "conversions": selectors.conversion_list_for_user(user=request.user)[:50],
            "max_upload": format_bytes(selectors.max_upload_bytes()),
            "managed_tracks": [
                t for t in tracks if request.user.has_perm("conversion.manage_calibration", t)
            ],
        },
        status=status,
    )


def _upload_limit(request, *args, **kwargs) -> int:
    return selectors.max_upload_bytes()


def _refuse_upload(request, message):
    """Refused from its Content-Length by the upload guard, before anything read the body."""
    return _page(request, status=413, errors=[message])


@login_required
@upload_limited(_upload_limit, _refuse_upload)
def convert(request):
    if request.method != "POST":
        return _page(request)
    request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
    if upload_refused(request):
        return _page(request, status=413, errors=[upload_refused(request)])
    tracks = selectors.conversion_tracks(user=request.user)
    form = ConversionForm(request.POST, request.FILES, tracks=tracks, accept=_accept())
    if not form.is_valid():
        return _page(request, form=form, status=400, errors=form_error_messages(form))
    data = form.cleaned_data
    try:
        conversion = services.conversion_create(
            owner=request.user,
            upload=data["model"],
            output_kind=data["output_kind"],
            challenge=data["track"],
            input_shape=data["input_shape"],
            output_shape=data["output_shape"],
            dynamic_copy=data["dynamic_copy"],
        )
    except services.ConversionRefused as exc:
        return _page(request, form=form, status=400, errors=exc.messages)
    return redirect(conversion)


def _conversion_for(request, uid, perm: str = "conversion.view_conversion") -> Conversion:
    conversion = selectors.conversion_get(uid=uid)
    if conversion is None or not request.user.has_perm(perm, conversion):
        raise Http404
    return conversion


def _context(conversion: Conversion) -> dict:
    info = conversion.model_info or {}
    return {
        "conversion": conversion,
        "info": info,
        "workshop_of_track": conversion.challenge.workshop if conversion.challenge else None,
        "inputs": info.get("inputs") or [],
        "outputs": info.get("outputs") or [],
        "unsupported": (conversion.delegate_report or {}).get("unsupported") or {},
    }


@login_required
def detail(request, uid):
    return render(request, "conversion/detail.html", _context(_conversion_for(request, uid)))


@login_required
def status(request, uid):
    """The live part of a conversion, polled by htmx every second until it ends."""
    return render(request, "conversion/_status.html", _context(_conversion_for(request, uid)))


@login_required
def download(request, uid, which: str = "model"):
    conversion = _conversion_for(request, uid)
    dynamic = which == "dynamic"
    field = conversion.dynamic_file if dynamic else conversion.result_file
    if conversion.state != Conversion.State.DONE or not field:
        raise Http404
    name = conversion.result_name.replace(".tflite", "_dynamic.tflite") if dynamic else conversion.result_name
    return FileResponse(
        field.open("rb"), as_attachment=True, filename=name, content_type="application/octet-stream"
    )


@login_required
@require_POST
def check_runtime(request, uid):
    from evaluation.services import RuntimeJobRefused

    conversion = _conversion_for(request, uid, "conversion.use_conversion")
    try:
        job = services.conversion_check_runtime(conversion=conversion, user=request.user)
    except (RuntimeJobRefused, services.ConversionRefused) as exc:
        add_refusal_to_messages(request, exc)
        return redirect(conversion)
    return redirect(job)


@login_required
@require_POST
def submit_final(request, uid):
    from challenges.finalphase.services.base import FinalPhaseRefused

    conversion = _conversion_for(request, uid, "conversion.use_conversion")
    try:
        submission = services.conversion_submit_final(
            conversion=conversion,
            user=request.user,
            now=getattr(request, "arrived_at", None) or timezone.now(),
        )
    except (FinalPhaseRefused, services.ConversionRefused) as exc:
        add_refusal_to_messages(request, exc)
        return redirect(conversion)
    return redirect(submission)


def _calibration_page(request, challenge, *, form=None, status=200, errors=()):
    return render(
        request,
        "conversion/calibration.html",
        {
            "challenge": challenge,
            "workshop": challenge.workshop,
            "form": form or CalibrationSetForm(),
            "errors": list(errors),
            "sets": selectors.calibration_sets_for(challenge=challenge),
            "sources": selectors.calibration_sources(challenge=challenge),
        },
        status=status,
    )


def _track_for(request, challenge_id):
    challenge = selectors.track_get(pk=challenge_id)
    if challenge is None or not request.user.has_perm("conversion.manage_calibration", challenge):
        raise Http404
    return challenge


def _refuse_calibration(request, message, challenge_id):
    return _calibration_page(request, _track_for(request, challenge_id), status=413, errors=[message])


@login_required
@upload_limited(_upload_limit, _refuse_calibration)
def calibration(request, challenge_id):
    challenge = _track_for(request, challenge_id)
    if request.method != "POST":
        return _calibration_page(request, challenge)
    request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
    if upload_refused(request):
        return _calibration_page(request, challenge, status=413, errors=[upload_refused(request)])
    form = CalibrationSetForm(request.POST, request.FILES)
    if not form.is_valid():
        return _calibration_page(
            request, challenge, form=form, status=400, errors=["Choose a file to upload."]
        )
    try:
        services.calibration_set_create(
            challenge=challenge, user=request.user, upload=form.cleaned_data["file"]
        )
    except services.ConversionRefused as exc:
        return _calibration_page(request, challenge, form=form, status=400, errors=exc.messages)
    messages.success(request, "Calibration set stored: INT8 conversions for this track use it from now on.")
    return redirect("conversion:calibration", challenge_id=challenge.pk)
