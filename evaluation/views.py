"""Evaluation pages: the device list and "Check my runtime" (upload, queue position and live status
through htmx polling, results with their distribution, profile, power and reproducibility record,
history), "compare two jobs", and the device lab (operators pause, drain and resume devices). Thin: the
work is in `services`/`selectors`."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.forms import form_error_messages
from common.uploads import upload_limited, upload_refused

from . import selectors, services
from .models import Device, RuntimeJob
from .profiling import delegation_summary
from .runners.base import Accelerator
from .tflite import ShapeError, format_shape, parse_shapes


class DeviceSelect(forms.Select):
    """Each device option carries the accelerators the device reports (`data-accelerators`), which
    static/js/runtime_form.js uses to offer exactly those in the accelerator select."""

    def __init__(self, *args, accelerators: dict[str, list[str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.accelerators = accelerators or {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["data-accelerators"] = " ".join(self.accelerators.get(str(value), []))
        return option


class AcceleratorField(forms.ChoiceField):
    """Offers the chosen device's accelerators; what the device lacks is refused by the form's clean()
    with a sentence naming the device and what it offers."""

    def validate(self, value):
        forms.Field.validate(self, value)


class RuntimeCheckForm(forms.Form):
    model = forms.FileField(
        label="TFLite model (.tflite)", widget=forms.ClearableFileInput(attrs={"accept": ".tflite"})
    )
    device = forms.ChoiceField(label="Device")
    accelerator = AcceleratorField(label="Accelerator")
    input_shape = forms.CharField(
        label="Input shape",
        required=False,
        max_length=200,
        help_text="Only for inputs with free dimensions (“?”), e.g. 1x480x720x3 (several inputs: separate "
        "them with “;”). Declared dimensions stay as they are; a dynamic batch runs at 1.",
        widget=forms.TextInput(attrs={"placeholder": "1x480x720x3"}),
    )
    threads = forms.IntegerField(min_value=1, max_value=8, initial=1, label="CPU threads")
    warmup_runs = forms.IntegerField(min_value=1, max_value=100, initial=1, label="Warm-up runs")
    timed_runs = forms.IntegerField(min_value=1, max_value=1000, initial=20, label="Timed runs")
    repetitions = forms.IntegerField(
        min_value=1,
        max_value=10,
        initial=3,
        required=False,
        label="Repetitions",
        help_text="The timed runs are repeated this many times, with a cool-down between repetitions.",
    )

    def __init__(self, *args, devices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.devices = {d.slug: d for d in devices}
        self.fields["device"].widget = DeviceSelect(
            accelerators={d.slug: list(d.accelerators) for d in devices}
        )
        self.fields["device"].choices = [
            (d.slug, f"{d.name} ({getattr(d, 'effective_status', d.status)})") for d in devices
        ]
        # Offered: the accelerators of the chosen device (the first one before a choice is made).
        chosen = self.devices.get(str(self.data.get("device") or "")) if self.is_bound else None
        chosen = chosen or (devices[0] if devices else None)
        codes = list(chosen.accelerators) if chosen else []
        self.fields["accelerator"].choices = [(a, Accelerator.LABELS.get(a, a)) for a in codes]

    def clean(self):
        data = super().clean()
        device = self.devices.get(str(data.get("device") or ""))
        accelerator = data.get("accelerator")
        if device is not None and accelerator and accelerator not in device.accelerators:
            label = Accelerator.LABELS.get(accelerator, accelerator)
            offered = ", ".join(device.accelerator_labels()) or "none"
            self.add_error("accelerator", f"{device.name} has no {label} accelerator; it offers {offered}.")
        return data

    def clean_input_shape(self):
        text = self.cleaned_data.get("input_shape", "")
        try:
            parse_shapes(text)
        except ShapeError as exc:
            raise forms.ValidationError(exc.message) from None
        return text


def _page(request, *, form, status=200, errors=(), job=None):
    devices = selectors.device_list()
    return render(
        request,
        "evaluation/check_runtime.html",
        {
            "form": form,
            "errors": list(errors),
            "devices": devices,
            "current_job": job,
            "jobs": selectors.runtime_job_list_for_user(user=request.user)[:50],
            "max_model_bytes": selectors.max_model_bytes(),
            "accelerator_labels": dict(Accelerator.LABELS),
        },
        status=status,
    )


def _model_upload_limit(request) -> int:
    return selectors.max_model_bytes()


def _refuse_model_upload(request, message):
    """Refused from its Content-Length by the upload guard, before anything read the body."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    form = RuntimeCheckForm(devices=selectors.device_list())
    return _page(request, form=form, status=413, errors=[selectors.too_big_message(length)])


@login_required
@upload_limited(_model_upload_limit, _refuse_model_upload)
def check_runtime(request):
    devices = selectors.device_list()
    if request.method != "POST":
        return _page(request, form=RuntimeCheckForm(devices=devices))
    request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
    if upload_refused(request):
        return _page(
            request, form=RuntimeCheckForm(devices=devices), status=413, errors=[upload_refused(request)]
        )
    form = RuntimeCheckForm(request.POST, request.FILES, devices=devices)
    if not form.is_valid():
        return _page(request, form=form, status=400, errors=form_error_messages(form))
    data = form.cleaned_data
    try:
        job = services.runtime_job_create(
            owner=request.user,
            model_file=data["model"],
            device=data["device"],
            accelerator=data["accelerator"],
            options={
                k: data[k]
                for k in ("threads", "warmup_runs", "timed_runs", "repetitions", "input_shape")
                if data.get(k) is not None
            },
        )
    except services.RateLimited as exc:
        return _page(request, form=form, status=429, errors=exc.messages)
    except services.RuntimeJobRefused as exc:
        return _page(request, form=form, status=400, errors=exc.messages)
    return redirect(job)


def device_list(request):
    return render(request, "evaluation/device_list.html", {"devices": selectors.device_list()})


def _job_for(request, uid) -> RuntimeJob:
    job = selectors.runtime_job_get(uid=uid)
    if job is None or not request.user.has_perm("evaluation.view_runtimejob", job):
        raise Http404
    return job


def _job_context(job: RuntimeJob) -> dict:
    info = dict(job.model_info or {})
    for role in ("inputs", "outputs"):
        # Declared shapes with "?" for dynamic dimensions (LiteRT's −1), beside the shape that ran.
        info[role] = [
            {**t, "declared": format_shape(t.get("shape_signature") or t.get("shape"))}
            for t in info.get(role) or []
        ]
    profile = job.profile or {}
    return {
        "job": job,
        "position": selectors.runtime_job_queue_position(job=job),
        "info": info,
        "profile": profile,
        "chart": selectors.profile_chart(profile),
        "agreement": selectors.profile_agreement(job),
        "delegation": delegation_summary(profile, model_nodes=_operator_count(info))
        if profile.get("nodes")
        else "",
    }


def _operator_count(info: dict) -> int | None:
    """The model's operator count from intake (its operators by type), when known."""
    operators = info.get("operators") or {}
    return sum(int(c) for c in operators.values()) if isinstance(operators, dict) and operators else None


@login_required
def job_detail(request, uid):
    return render(request, "evaluation/job_detail.html", _job_context(_job_for(request, uid)))


@login_required
def job_status(request, uid):
    """The live part of a job, polled by htmx every second until the job finishes."""
    return render(request, "evaluation/_job_status.html", _job_context(_job_for(request, uid)))


@login_required
def job_compare(request):
    """Two of the user's jobs side by side: the difference in mean latency with its 95% interval."""
    first = _job_for_compare(request, request.GET.get("a"))
    second = _job_for_compare(request, request.GET.get("b"))
    error = ""
    if first is None or second is None:
        error = "Choose two of your finished runtime checks to compare."
    comparison = selectors.runtime_job_compare(first=first, second=second) if not error else None
    if not error and comparison is None:
        error = "Both jobs need a result with at least two timed runs to be compared."
    return render(
        request,
        "evaluation/job_compare.html",
        {
            "first": first,
            "second": second,
            "comparison": comparison,
            "error": error,
            "jobs": selectors.runtime_job_list_for_user(user=request.user, purpose=None).filter(
                state=RuntimeJob.State.DONE
            )[:50],
        },
        status=400 if error and (request.GET.get("a") or request.GET.get("b")) else 200,
    )


def _job_for_compare(request, uid) -> RuntimeJob | None:
    try:
        job = selectors.runtime_job_get(uid=uuid.UUID(str(uid)))
    except ValueError:
        return None
    if job is None or not request.user.has_perm("evaluation.view_runtimejob", job):
        return None
    return job


@login_required
def device_lab(request):
    """Every device by host: status, operator state, thermal state, queue, jobs and utilisation over the
    last day, last error. Operators of a host (and superusers) pause, drain and resume its devices."""
    groups = selectors.device_lab()
    for group in groups:
        for device in group["devices"]:
            device.may_operate = request.user.has_perm("evaluation.operate_device", device)
    return render(request, "evaluation/device_lab.html", {"groups": groups})


@login_required
@require_POST
def device_operate(request, slug, action):
    """POST from the lab page: pause, drain or resume one device."""
    device = selectors.device_get_for_operator(slug=slug)
    state = OPERATOR_ACTIONS.get(action)
    if device is None or state is None or not request.user.has_perm("evaluation.operate_device", device):
        raise Http404
    services.device_operator_state_set(device=device, state=state)
    messages.success(request, f"{device.name} is now {Device.OperatorState(state).label.lower()}.")
    return redirect("evaluation:device-lab")


OPERATOR_ACTIONS = {
    "pause": Device.OperatorState.PAUSED,
    "drain": Device.OperatorState.DRAINING,
    "resume": Device.OperatorState.ACTIVE,
}
