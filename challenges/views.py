"""Challenge pages (thin views)."""

from django.shortcuts import get_object_or_404, render

from conference.selectors import workshop_get

from .models import Challenge


def challenge_list(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    return render(request, "challenges/list.html", {"workshop": ws, "challenges": ws.challenges.all()})


def challenge_detail(request, workshop, challenge):
    ws = workshop_get(slug=workshop, user=request.user)
    ch = get_object_or_404(Challenge, workshop=ws, slug=challenge)
    return render(request, "challenges/detail.html", {"workshop": ws, "challenge": ch})
