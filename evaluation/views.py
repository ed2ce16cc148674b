"""Evaluation pages: the device list and "Check my runtime" (upload, live status, results, history)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import RuntimeJob


@login_required
def check_runtime(request):
    return render(request, "evaluation/check_runtime.html", {})


def device_list(request):
    return render(request, "evaluation/device_list.html", {"devices": selectors.device_list()})


def _job_for(request, uid) -> RuntimeJob:
    job = get_object_or_404(RuntimeJob.objects.select_related("device"), uid=uid)
    if not request.user.has_perm("evaluation.view_runtimejob", job):
        raise Http404
    return job


@login_required
def job_detail(request, uid):
    job = _job_for(request, uid)
    return render(request, "evaluation/job_detail.html", {"job": job})


@login_required
def job_status(request, uid):
    job = _job_for(request, uid)
    return render(request, "evaluation/_job_status.html", {"job": job})
