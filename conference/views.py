"""Public pages of a workshop edition and the profile page. Thin: reads come from selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from .forms import ProfileForm
from .ical import workshop_calendar
from .models import Profile
from .selectors import workshop_dates, workshop_get, workshop_list_public


def home(request):
    workshops = list(workshop_list_public())
    return render(request, "conference/home.html", {"workshops": workshops})


def workshop_home(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    upcoming = [e for e in workshop_dates(workshop=ws) if e.at >= timezone.now()][:3]
    return render(request, "conference/workshop.html", {"workshop": ws, "upcoming": upcoming})


def call_for_papers(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    return render(request, "conference/cfp.html", {"workshop": ws, "topics": ws.topics.all()})


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
    return render(request, "conference/organisers.html", {"workshop": ws, "organisers": ws.organisers.all()})


@login_required
def profile_edit(request):
    profile, _ = Profile.objects.get_or_create(
        user=request.user, defaults={"full_name": request.user.get_full_name() or request.user.email}
    )
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile was saved.")
        return redirect("profile")
    return render(request, "conference/profile.html", {"form": form})
