"""Evaluation pages: the device list and "Check my runtime" (upload, queue position and live status
through htmx polling, results, history). Thin: the work is in `services`/`selectors`."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from . import selectors, services
from .models import RuntimeJob
from .runners.base import Accelerator


class RuntimeCheckForm(forms.Form):
    model = forms.FileField(
        label="TFLite model (.tflite)", widget=forms.ClearableFileInput(attrs={"accept": ".tflite"})
    )
    device = forms.ChoiceField(label="Device")
    accelerator = forms.ChoiceField(
        label="Accelerator", choices=[(a, Accelerator.LABELS[a]) for a in Accelerator.ALL]
    )
    threads = forms.IntegerField(min_value=1, max_value=8, initial=1, label="CPU threads")
    warmup_runs = forms.IntegerField(min_value=1, max_value=100, initial=1, label="Warm-up runs")
    timed_runs = forms.IntegerField(min_value=1, max_value=1000, initial=20, label="Timed runs")

    def __init__(self, *args, devices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [
            (d.slug, f"{d.name} ({getattr(d, 'effective_status', d.status)})") for d in devices
        ]


class LimitedUploadHandler(FileUploadHandler):
    """Stops reading an upload (sent without a Content-Length, e.g. chunked) once it passes the limit."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


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
            "max_model_bytes": services.max_model_bytes(),
        },
        status=status,
    )


@csrf_exempt
@login_required
def check_runtime(request):
    """The size check happens before anything reads the body (CSRF included), so a 500 MB upload is
    refused after its headers; the CSRF check then runs as usual."""
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = services.max_model_bytes()
        if length > limit + 64 * 1024:
            form = RuntimeCheckForm(devices=selectors.device_list())
            return _page(request, form=form, status=413, errors=[services.too_big_message(length)])
        request.upload_handlers.insert(0, LimitedUploadHandler(request, limit=limit + 64 * 1024))
    return _check_runtime_protected(request)


@csrf_protect
def _check_runtime_protected(request):
    devices = selectors.device_list()
    if request.method != "POST":
        return _page(request, form=RuntimeCheckForm(devices=devices))
    form = RuntimeCheckForm(request.POST, request.FILES, devices=devices)
    if not form.is_valid():
        errors = [
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(msgs)}"
            for name, msgs in form.errors.items()
        ]
        return _page(request, form=form, status=400, errors=errors)
    data = form.cleaned_data
    try:
        job = services.runtime_job_create(
            owner=request.user,
            model_file=data["model"],
            device=data["device"],
            accelerator=data["accelerator"],
            options={k: data[k] for k in ("threads", "warmup_runs", "timed_runs")},
        )
    except services.RateLimited as exc:
        return _page(request, form=form, status=429, errors=exc.messages)
    except services.RuntimeJobRefused as exc:
        return _page(request, form=form, status=400, errors=exc.messages)
    return redirect(job)


def device_list(request):
    return render(request, "evaluation/device_list.html", {"devices": selectors.device_list()})


def _job_for(request, uid) -> RuntimeJob:
    job = get_object_or_404(RuntimeJob.objects.select_related("device"), uid=uid)
    if not request.user.has_perm("evaluation.view_runtimejob", job):
        raise Http404
    return job


def _job_context(job: RuntimeJob) -> dict:
    return {
        "job": job,
        "position": selectors.runtime_job_queue_position(job=job),
        "info": job.model_info or {},
    }


@login_required
def job_detail(request, uid):
    return render(request, "evaluation/job_detail.html", _job_context(_job_for(request, uid)))


@login_required
def job_status(request, uid):
    """The live part of a job, polled by htmx every second until the job finishes."""
    return render(request, "evaluation/_job_status.html", _job_context(_job_for(request, uid)))
