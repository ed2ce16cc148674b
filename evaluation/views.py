"""Evaluation pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def check_runtime(request):
    return render(request, "evaluation/check_runtime.html", {})
