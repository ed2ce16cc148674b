"""Challenge pages (thin views over `services`, `selectors`, `timeline` and the `rules` permissions)."""

import csv
import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from conference.selectors import workshop_get

from . import selectors, services, timeline
from .forms import DataFileForm, SubmissionForm
from .models import Challenge, DataFile, Milestone, Registration, Submission, TeamInvitation
from .rules import is_challenge_organiser


def _challenge(request, workshop, challenge) -> Challenge:
    ws = workshop_get(slug=workshop, user=request.user)
    return get_object_or_404(Challenge.objects.select_related("workshop"), workshop=ws, slug=challenge)


def with_challenge(view):
    @wraps(view)
    def wrapped(request, workshop, challenge, **kwargs):
        return view(request, _challenge(request, workshop, challenge), **kwargs)

    return wrapped


def _errors(request, exc: services.ChallengeError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _context(request, ch: Challenge, **extra) -> dict:
    now = timezone.now()
    tl = selectors.timeline_for(ch)
    team = selectors.team_for(request.user, ch)
    return {
        "workshop": ch.workshop,
        "challenge": ch,
        "now": now,
        "timeline": tl,
        "phase": timeline.phase_open(tl, now),
        "team": team,
        "registration": selectors.registration_for(request.user, ch),
        "is_organiser": is_challenge_organiser(request.user, ch),
        **extra,
    }


def challenge_list(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    return render(request, "challenges/list.html", {"workshop": ws, "challenges": ws.challenges.all()})


@with_challenge
def challenge_detail(request, ch):
    ctx = _context(request, ch)
    now, tl = ctx["now"], ctx["timeline"]
    labels = dict(Milestone.Kind.choices)
    ctx["entries"] = [(e, labels.get(e.kind, e.kind)) for e in timeline.entries(tl, now)]
    nxt = timeline.next_milestone(tl, now)
    ctx["next"] = (labels.get(nxt[0], nxt[0]), nxt[1]) if nxt else None
    ctx["registration_open"] = timeline.registration_open(tl, now)
    ctx["data_files"] = selectors.data_files_for(challenge=ch, user=request.user, now=now)
    ctx["leaderboard_visible"] = selectors.leaderboard_visible(challenge=ch, user=request.user, now=now)
    ctx["final_leaderboard_visible"] = selectors.leaderboard_visible(
        challenge=ch, user=request.user, phase=timeline.Phase.FINAL, now=now
    )
    if ctx["team"]:
        ctx["limits"] = selectors.submission_limits(team=ctx["team"], challenge=ch, now=now)
    return render(request, "challenges/detail.html", ctx)


@login_required
@require_POST
@with_challenge
def register(request, ch):
    try:
        reg = services.challenge_register(
            challenge=ch, user=request.user, accept_terms=request.POST.get("accept_terms") == "on"
        )
    except services.ChallengeError as exc:
        _errors(request, exc)
    else:
        if reg.approved:
            messages.success(request, f"You are registered for {ch.title}.")
        else:
            messages.info(request, "You are registered; the organisers will approve your registration.")
    return redirect(ch)


# --- Teams ----------------------------------------------------------------------------------------


@login_required
@with_challenge
def team_page(request, ch):
    ctx = _context(request, ch)
    if ctx["team"]:
        ctx["members"] = ctx["team"].memberships.select_related("user__profile")
        ctx["invitations"] = ctx["team"].invitations.filter(accepted_at__isnull=True)
    return render(request, "challenges/team.html", ctx)


def _team_action(request, ch, action, success):
    try:
        action()
    except services.ChallengeError as exc:
        _errors(request, exc)
    else:
        messages.success(request, success)
    return redirect("challenges:team", workshop=ch.workshop.slug, challenge=ch.slug)


@login_required
@require_POST
@with_challenge
def team_create(request, ch):
    name = request.POST.get("name", "")
    return _team_action(
        request,
        ch,
        lambda: services.team_create(challenge=ch, user=request.user, name=name),
        "Your team was created. Invite your team mates by e-mail or give them the join code.",
    )


@login_required
@require_POST
@with_challenge
def team_join(request, ch):
    code = request.POST.get("code", "")
    return _team_action(
        request,
        ch,
        lambda: services.team_join(challenge=ch, user=request.user, code=code),
        "You joined the team.",
    )


@login_required
@require_POST
@with_challenge
def team_invite(request, ch):
    team = selectors.team_for(request.user, ch)
    if team is None:
        raise PermissionDenied
    email = request.POST.get("email", "")
    return _team_action(
        request,
        ch,
        lambda: services.team_invite(team=team, by=request.user, email=email),
        f"Invitation sent to {email}.",
    )


@login_required
@require_POST
@with_challenge
def team_leave(request, ch):
    return _team_action(
        request, ch, lambda: services.team_leave(challenge=ch, user=request.user), "You left the team."
    )


@login_required
@with_challenge
def invitation(request, ch, token):
    inv = get_object_or_404(TeamInvitation.objects.select_related("team"), token=token, team__challenge=ch)
    if request.method == "POST":
        try:
            services.team_invitation_accept(token=token, user=request.user)
        except services.ChallengeError as exc:
            _errors(request, exc)
        else:
            messages.success(request, f"You joined “{inv.team.name}”.")
            return redirect("challenges:team", workshop=ch.workshop.slug, challenge=ch.slug)
    return render(request, "challenges/invitation.html", _context(request, ch, invitation=inv))


# --- Data -----------------------------------------------------------------------------------------


@login_required
@with_challenge
def data_download(request, ch, pk):
    data_file = DataFile.objects.filter(challenge=ch, pk=pk).first()
    # The same answer whether the file does not exist or may not be read: nothing to learn by guessing.
    if data_file is None or not request.user.has_perm("challenges.download_data", data_file):
        raise Http404("No such file, or it is not available to you (yet).")
    if data_file.external_url:
        return HttpResponseRedirect(data_file.external_url)
    name = data_file.file.name.rsplit("/", 1)[-1].split("-", 1)[-1]
    return FileResponse(data_file.file.open("rb"), as_attachment=True, filename=name)


# --- Submissions ----------------------------------------------------------------------------------


@login_required
@with_challenge
def submissions(request, ch):
    ctx = _context(request, ch)
    team = ctx["team"]
    limit = ch.max_upload_mb * 1024 * 1024
    if request.method == "POST" and int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
        # Refused from the header, before the body is read.
        messages.error(request, f"The file is larger than {ch.max_upload_mb} MB.")
        return redirect("challenges:submissions", workshop=ch.workshop.slug, challenge=ch.slug)
    form = SubmissionForm(request.POST or None, request.FILES or None, challenge=ch)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            sub = services.submission_create(
                challenge=ch,
                user=request.user,
                name=upload.name,
                data=upload.read(),
                method_name=form.cleaned_data["method_name"],
                method_description=form.cleaned_data["method_description"],
            )
        except services.ChallengeError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Your results were received and are being scored.")
            return redirect(sub)
    ctx["form"] = form
    ctx["closes"] = timeline.phase_closes_at(ctx["timeline"], timeline.Phase.VALIDATION)
    if team:
        ctx["limits"] = selectors.submission_limits(team=team, challenge=ch, now=ctx["now"])
        ctx["submissions"] = selectors.submissions_for_team(team=team)
    return render(request, "challenges/submissions.html", ctx)


def _submission(request, ch, pk) -> Submission:
    sub = Submission.objects.select_related("team", "challenge").filter(challenge=ch, public_id=pk).first()
    if sub is None or not request.user.has_perm("challenges.view_submission", sub):
        raise Http404("No such submission.")
    return sub


@login_required
@with_challenge
def submission_detail(request, ch, pk):
    sub = _submission(request, ch, pk)
    return render(request, "challenges/submission.html", _context(request, ch, submission=sub))


@login_required
@with_challenge
def submission_status(request, ch, pk):
    """The htmx fragment polled every second until the submission is done or failed."""
    sub = _submission(request, ch, pk)
    return render(
        request,
        "challenges/_submission_status.html",
        {"challenge": ch, "submission": sub, "workshop": ch.workshop},
    )


# --- Leaderboard ----------------------------------------------------------------------------------


@with_challenge
def leaderboard(request, ch):
    ctx = _context(request, ch)
    visible = selectors.leaderboard_visible(challenge=ch, user=request.user, now=ctx["now"])
    ctx["visible"] = visible
    ctx["rows"] = selectors.leaderboard_validation(challenge=ch) if visible else []
    if request.htmx:
        return render(request, "challenges/_leaderboard_table.html", ctx)
    return render(request, "challenges/leaderboard.html", ctx)


@with_challenge
def leaderboard_csv(request, ch):
    if not selectors.leaderboard_visible(challenge=ch, user=request.user):
        raise Http404("This leaderboard is not public yet.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ch.workshop.slug}-{ch.slug}-validation.csv"'
    writer = csv.writer(response)
    writer.writerow(["rank", "team", *[m["label"] for m in ch.metrics], "method", "submitted_at_utc"])
    for row in selectors.leaderboard_validation(challenge=ch):
        writer.writerow(
            [
                row.rank,
                row.team,
                *[
                    (
                        ""
                        if row.scores.get(m["key"]) is None
                        else f"{row.scores[m['key']]:.{m.get('precision', 4)}f}"
                    )
                    for m in ch.metrics
                ],
                row.method,
                row.submitted_at.astimezone(dt.UTC).isoformat(),
            ]
        )
    return response


# --- Organisers -----------------------------------------------------------------------------------


@login_required
@with_challenge
def manage(request, ch):
    if not is_challenge_organiser(request.user, ch):
        raise PermissionDenied
    form = DataFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.data_file_create(challenge=ch, **form.cleaned_data)
        except services.ChallengeError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The data file was stored.")
            return redirect("challenges:manage", workshop=ch.workshop.slug, challenge=ch.slug)
    ctx = _context(request, ch, form=form)
    ctx["registrations"] = ch.registrations.select_related("user__profile").order_by("approved", "created_at")
    ctx["data_files"] = selectors.data_files_for(challenge=ch, user=request.user)
    ctx["recent"] = ch.submissions.select_related("team")[:50]
    return render(request, "challenges/manage.html", ctx)


@login_required
@require_POST
@with_challenge
def registration_approve(request, ch, pk):
    if not is_challenge_organiser(request.user, ch):
        raise PermissionDenied
    reg = get_object_or_404(Registration, challenge=ch, pk=pk)
    services.registration_approve(registration=reg, approved=request.POST.get("approved", "1") == "1")
    messages.success(request, f"Registration of {reg.user.email} updated.")
    return redirect("challenges:manage", workshop=ch.workshop.slug, challenge=ch.slug)
