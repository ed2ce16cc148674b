"""Public pages of a workshop edition and the profile page. Thin: reads come from selectors, writes
from services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from . import services
from .forms import ProfileForm
from .ical import workshop_calendar
from .selectors import (
    workshop_dates,
    workshop_get,
    workshop_list_public,
    workshop_organisers,
    workshop_topics,
)


def home(request):
    workshops = list(workshop_list_public())
    return render(request, "conference/home.html", {"workshops": workshops})


def workshop_home(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    upcoming = [e for e in workshop_dates(workshop=ws) if e.at >= timezone.now()][:3]
    return render(request, "conference/workshop.html", {"workshop": ws, "upcoming": upcoming})


def call_for_papers(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    return render(request, "conference/cfp.html", {"workshop": ws, "topics": workshop_topics(workshop=ws)})


def important_dates(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    events = workshop_dates(workshop=ws)
    groups: dict[str, list] = {"Papers": []}  # the workshop's own dates first, then the challenges
    for event in events:
        groups.setdefault(event.category, []).append(event)
    if not groups["Papers"]:
        del groups["Papers"]
    return render(request, "conference/dates.html", {"workshop": ws, "groups": groups, "now": timezone.now()})


def important_dates_ics(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    response = HttpResponse(workshop_calendar(workshop=ws), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{ws.slug}.ics"'
    return response


def organisers(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    return render(
        request,
        "conference/organisers.html",
        {"workshop": ws, "organisers": workshop_organisers(workshop=ws)},
    )


@login_required
def profile_edit(request):
    profile = services.profile_get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.profile_update(profile=profile, **form.cleaned_data)
        messages.success(request, "Your profile was saved.")
        return redirect("profile")
    return render(request, "conference/profile.html", {"form": form})
