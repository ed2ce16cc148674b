"""Final-phase pages (thin views over `services` and `selectors`); every object view checks its
permission (`rules.py`). Live status of a submission comes from an htmx fragment polled every second."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from challenges import timeline
from challenges.models import Challenge
from challenges.selectors import challenge_get, team_for, team_members, timeline_for
from common.forms import add_refusal_to_form, add_refusal_to_messages
from common.uploads import upload_limited, upload_refused
from conference.selectors import workshop_get
from config.middleware import arrived_at

from . import selectors
from .forms import CodeForm, FactSheetForm, FinalSettingsForm, MemberFormSet, ModelSubmissionForm, ReleaseForm
from .models import ModelSubmission
from .services import factsheets, scores, submissions
from .services.base import FinalPhaseRefused

EXPORT_TYPES = {"csv", "tex", "pdf", "svg", "zip"}


def _challenge(request, workshop: str, challenge: str) -> Challenge:
    ws = workshop_get(slug=workshop, user=request.user)
    ch = challenge_get(workshop=ws, slug=challenge)
    if ch is None:
        raise Http404("No such challenge.")
    return ch


def _context(request, ch: Challenge, **extra) -> dict:
    tl = timeline_for(ch)
    now = timezone.now()
    settings = selectors.final_settings_for(challenge=ch)
    return {
        "workshop": ch.workshop,
        "challenge": ch,
        "settings": settings,
        "is_organiser": request.user.has_perm("finalphase.manage", ch),
        "phase_open": timeline.accepts_submissions(tl, timeline.Phase.FINAL, now),
        "factsheets_open": timeline.factsheets_open(tl, now),
        "final_opens_at": tl.at(timeline.K_TEST_DATA),
        "final_closes_at": timeline.phase_closes_at(tl, timeline.Phase.FINAL),
        "factsheet_deadline": tl.at(timeline.K_FACTSHEET_DEADLINE),
        "results_released_at": tl.at(timeline.K_PRELIMINARY),
        "measured_on": selectors.measured_on_for(challenge=ch, settings=settings),
        **extra,
    }


def final_home(request, workshop, challenge):
    """The team's final-phase page: submit a model, its submissions, fact sheet and code status."""
    ch = _challenge(request, workshop, challenge)
    return render(request, "finalphase/home.html", _home_context(request, ch, form=ModelSubmissionForm()))


def _home_context(request, ch: Challenge, *, form) -> dict:
    """The team's final-phase page, built in one place for the page and for a refused upload."""
    team = team_for(request.user, ch)
    ctx = _context(request, ch, team=team, form=form)
    if team is not None:
        ctx["submissions"] = selectors.submissions_for_team(team=team)
        ctx["used"] = selectors.submissions_counted_against_limit(team=team)
        ctx["left"] = max(ctx["settings"].max_submissions - ctx["used"], 0)
        ctx["factsheet"] = selectors.factsheet_for_team(team=team)
        ctx["code"] = selectors.code_submission_for_team(team=team)
        ctx["own_visible"] = selectors.own_results_visible_to(request.user, ch, settings=ctx["settings"])
        ctx["counted"] = selectors.counted_submission(
            team=team, settings=ctx["settings"], closes_at=ctx["final_closes_at"]
        )
    ctx["leaderboard_visible"] = selectors.leaderboard_visible_to(request.user, ch, settings=ctx["settings"])
    return ctx


MB = 1024 * 1024


def _refuse_to(route: str):
    """The upload guard's answer: the message on the page the form lives on."""

    def refuse(request, message, workshop, challenge):
        messages.error(request, message)
        return redirect(reverse(route, args=[workshop, challenge]))

    return refuse


def _submission_limits(request, workshop, challenge) -> dict[str, int]:
    ch = _challenge(request, workshop, challenge)
    model = selectors.final_settings_for(challenge=ch).max_model_mb * MB
    return {"model": model, "dynamic_model": model, "results": ch.max_upload_mb * MB}


def _factsheet_limits(request, workshop, challenge) -> dict[str, int]:
    return {"attachment": factsheets.FACTSHEET_ATTACHMENT_MB * MB}


def _code_limits(request, workshop, challenge) -> dict[str, int]:
    ch = _challenge(request, workshop, challenge)
    return {"archive": selectors.final_settings_for(challenge=ch).max_code_mb * MB}


def _cut_off(request, route: str, workshop: str, challenge: str):
    """After the body was read: the redirect with the guard's message when a file was cut off."""
    if request.method == "POST":
        request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
        if upload_refused(request):
            messages.error(request, upload_refused(request))
            return redirect(reverse(route, args=[workshop, challenge]))
    return None


@login_required
@require_POST
@upload_limited(_submission_limits, _refuse_to("finalphase:home"))
def submission_create(request, workshop, challenge):
    ch = _challenge(request, workshop, challenge)
    cut = _cut_off(request, "finalphase:home", workshop, challenge)
    if cut:
        return cut
    form = ModelSubmissionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            submission = submissions.model_submission_create(
                challenge=ch,
                user=request.user,
                model_file=form.cleaned_data["model"],
                dynamic_model_file=form.cleaned_data.get("dynamic_model"),
                results_file=form.cleaned_data.get("results"),
                method_name=form.cleaned_data.get("method_name", ""),
                now=arrived_at(request),
            )
        except FinalPhaseRefused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, "Model accepted: its fidelity and runtime are being measured.")
            return redirect(submission.get_absolute_url())
    return render(request, "finalphase/home.html", _home_context(request, ch, form=form), status=400)


def _submission(request, workshop, challenge, pk) -> ModelSubmission:
    ch = _challenge(request, workshop, challenge)
    submission = selectors.model_submission_get(challenge=ch, public_id=pk)
    if submission is None or not request.user.has_perm("finalphase.view_team_material", submission):
        raise Http404("No such submission.")  # not 403: do not confirm that it exists
    return submission


def _submission_context(request, submission) -> dict:
    ch = submission.challenge
    return _context(
        request,
        ch,
        submission=submission,
        team=submission.team,
        runtime_progress=selectors.model_submission_runtime_progress(submission=submission),
        own_visible=selectors.own_results_visible_to(request.user, ch),
        columns=selectors.leaderboard_columns(ch, [submission]),
        quantities=submission.quantities(),
    )


@login_required
def submission_detail(request, workshop, challenge, pk):
    submission = _submission(request, workshop, challenge, pk)
    return render(request, "finalphase/submission.html", _submission_context(request, submission))


@login_required
def submission_status(request, workshop, challenge, pk):
    """The htmx fragment: both measurements' progress; stops polling once the submission is final."""
    submission = _submission(request, workshop, challenge, pk)
    return render(request, "finalphase/_status.html", _submission_context(request, submission))


@login_required
@require_POST
def submission_select(request, workshop, challenge, pk):
    submission = _submission(request, workshop, challenge, pk)
    try:
        submissions.model_submission_select(submission=submission, user=request.user, now=arrived_at(request))
    except FinalPhaseRefused as exc:
        add_refusal_to_messages(request, exc)
    else:
        messages.success(request, "This submission now counts for your team.")
    return redirect(reverse("finalphase:home", args=[workshop, challenge]))


def _initial_members(team) -> list[dict]:
    members = []
    for m in team_members(team=team):
        profile = getattr(m.user, "profile", None)
        members.append(
            {
                "name": getattr(profile, "full_name", "") or m.user.get_username(),
                "affiliation": getattr(profile, "affiliation", ""),
                "email": m.user.email,
            }
        )
    return members


@login_required
@upload_limited(_factsheet_limits, _refuse_to("finalphase:factsheet"))
def factsheet_edit(request, workshop, challenge):
    ch = _challenge(request, workshop, challenge)
    team = team_for(request.user, ch)
    if team is None:
        raise PermissionDenied("Only a team of this challenge has a fact sheet.")
    sheet = selectors.factsheet_for_team(team=team)
    size = max(ch.max_team_size, len(sheet.members) if sheet else 0)
    cut = _cut_off(request, "finalphase:factsheet", workshop, challenge)
    if cut:
        return cut
    if request.method == "POST":
        form = FactSheetForm(request.POST, request.FILES)
        formset = MemberFormSet(request.POST, prefix="members")
        if form.is_valid() and formset.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "attachment"}
            members = [f.cleaned_data for f in formset.forms if f.cleaned_data]
            try:
                factsheets.factsheet_save(
                    challenge=ch,
                    user=request.user,
                    data=data,
                    members=members,
                    attachment=form.cleaned_data.get("attachment"),
                    now=arrived_at(request),
                )
            except FinalPhaseRefused as exc:
                add_refusal_to_form(form, exc)
            else:
                messages.success(request, "Fact sheet saved.")
                return redirect(reverse("finalphase:home", args=[workshop, challenge]))
        status = 400
    else:
        if sheet:
            initial = {k: getattr(sheet, k) for k in FactSheetForm.base_fields if k != "attachment"}
            members = sheet.members
        else:
            profile = getattr(request.user, "profile", None)
            initial = {
                "team_name": team.name,
                "contact_email": request.user.email,
                "contact_name": getattr(profile, "full_name", ""),
            }
            members = _initial_members(team)
        members = members + [{}] * (size - len(members))
        form = FactSheetForm(initial=initial)
        formset = MemberFormSet(initial=members, prefix="members")
        status = 200
    return render(
        request,
        "finalphase/factsheet_form.html",
        _context(request, ch, team=team, form=form, formset=formset, sheet=sheet),
        status=status,
    )


@login_required
def factsheet_pdf(request, workshop, challenge, team_id=None):
    """A team's fact sheet as PDF: the team's own, or any team's for organisers."""
    ch = _challenge(request, workshop, challenge)
    if team_id is None:
        sheet = selectors.factsheet_for_team(team=team_for(request.user, ch))
    else:
        sheet = selectors.factsheet_get(challenge=ch, team_id=team_id)
    if sheet is None or not request.user.has_perm("finalphase.view_team_material", sheet):
        raise Http404("No fact sheet.")
    data = selectors.factsheet_pdf_bytes(sheet=sheet)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="factsheet-{ch.slug}-{sheet.team_id}.pdf"'
    return response


@login_required
@upload_limited(_code_limits, _refuse_to("finalphase:code"))
def code_edit(request, workshop, challenge):
    ch = _challenge(request, workshop, challenge)
    team = team_for(request.user, ch)
    if team is None:
        raise PermissionDenied("Only a team of this challenge submits code.")
    code = selectors.code_submission_for_team(team=team)
    status = 200
    cut = _cut_off(request, "finalphase:code", workshop, challenge)
    if cut:
        return cut
    if request.method == "POST":
        form = CodeForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                factsheets.code_submission_save(
                    challenge=ch,
                    user=request.user,
                    archive=form.cleaned_data.get("archive"),
                    repository_url=form.cleaned_data.get("repository_url", ""),
                    now=arrived_at(request),
                )
            except FinalPhaseRefused as exc:
                add_refusal_to_form(form, exc)
            else:
                messages.success(request, "Code saved.")
                return redirect(reverse("finalphase:home", args=[workshop, challenge]))
        status = 400
    else:
        form = CodeForm(initial={"repository_url": code.repository_url if code else ""})
    return render(
        request,
        "finalphase/code_form.html",
        _context(request, ch, team=team, form=form, code=code),
        status=status,
    )


def leaderboard(request, workshop, challenge):
    ch = _challenge(request, workshop, challenge)
    ctx = _context(request, ch)
    if not request.user.has_perm("finalphase.view_leaderboard", ch):
        released_at = ctx["results_released_at"]
        ctx["released"] = released_at is not None and released_at <= timezone.now()
        return render(request, "finalphase/leaderboard_hidden.html", ctx, status=403)
    board = selectors.final_leaderboard(challenge=ch)
    team = team_for(request.user, ch)
    own = selectors.standing_for_team(board, team)
    rows = [
        {
            "standing": s,
            "values": [(c, s.submission.quantities().get(c.key)) for c in board.columns],
            "own": own is not None and s is own,
        }
        for s in board.standings
    ]
    ctx.update(
        board=board,
        rows=rows,
        plots=board.plots(),
        own=own,
        team=team,
        paper_url=selectors.paper_submission_url(challenge=ch, team=team) if own and own.ranked else None,
    )
    return render(request, "finalphase/leaderboard.html", ctx)


def results_export(request, workshop, challenge, fmt):
    ch = _challenge(request, workshop, challenge)
    if fmt not in EXPORT_TYPES:
        raise Http404("Unknown export format.")
    allowed = (
        request.user.has_perm("finalphase.manage", ch)
        if fmt == "zip"
        else request.user.has_perm("finalphase.view_leaderboard", ch)
    )
    if not allowed:
        raise PermissionDenied("The final results are not released yet.")
    content, content_type, filename = selectors.results_export(challenge=ch, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if fmt in ("pdf", "svg") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@login_required
def factsheets_all(request, workshop, challenge):
    ch = _challenge(request, workshop, challenge)
    if not request.user.has_perm("finalphase.manage", ch):
        raise PermissionDenied("Only the challenge's organisers download all fact sheets.")
    data = selectors.factsheets_merged_pdf(challenge=ch)
    if data is None:
        messages.info(request, "No team has filled in its fact sheet yet.")
        return redirect(reverse("finalphase:leaderboard", args=[workshop, challenge]))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{ch.workshop.slug}-{ch.slug}-factsheets.pdf"'
    return response


def _release_post(request, ch: Challenge, *, released):
    """The organiser moves the results release: (the response, or None; the release form posted, or
    None when the release was "now")."""
    zone = ch.workshop.zone
    release_form = None
    if request.POST["action"] == "release-now":
        at = timezone.now()
    else:
        release_form = ReleaseForm(request.POST)
        at = (
            release_form.cleaned_data["at"].replace(tzinfo=None).replace(tzinfo=zone)
            if release_form.is_valid()
            else None
        )
    now = timezone.now()
    shown_already = released is not None and released <= now
    if at is not None and at <= now and not shown_already and request.POST.get("confirm") != "yes":
        # Irreversible: participants see the leaderboard at once. Confirm with counts and warnings.
        return render(
            request,
            "finalphase/release_confirm.html",
            _context(
                request,
                ch,
                summary=selectors.release_summary(challenge=ch, now=now),
                action=request.POST["action"],
                at_value=request.POST.get("at", ""),
                at=at,
            ),
        ), release_form
    if at is not None:
        scores.results_release_set(challenge=ch, at=at)
        messages.success(
            request,
            f"Participants see the final leaderboard from {at.astimezone(zone):%a %d %B %Y, %H:%M %Z}.",
        )
        return redirect(reverse("finalphase:settings", args=[ch.workshop.slug, ch.slug])), release_form
    return None, release_form


@login_required
def settings_edit(request, workshop, challenge):
    ch = _challenge(request, workshop, challenge)
    if not request.user.has_perm("finalphase.manage", ch):
        raise PermissionDenied("Only the challenge's organisers change its final-phase settings.")
    settings = scores.final_settings_get(challenge=ch)
    status = 200
    zone = ch.workshop.zone
    released = timeline_for(ch).at(timeline.K_PRELIMINARY)
    release_form = ReleaseForm(
        initial={"at": released.astimezone(zone).replace(tzinfo=None) if released else None}
    )
    if request.method == "POST" and request.POST.get("action") in ("release", "release-now"):
        response, posted_form = _release_post(request, ch, released=released)
        if response is not None:
            return response
        release_form = posted_form or release_form
        form = FinalSettingsForm(instance=settings)
        status = 400
    elif request.method == "POST":
        form = FinalSettingsForm(request.POST, instance=settings)
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                scores.final_settings_update(challenge=ch, **fields)
            except FinalPhaseRefused as exc:
                add_refusal_to_form(form, exc, field="score_formula" if exc.reason == "formula" else None)
            else:
                messages.success(request, "Settings saved; every score was recomputed.")
                return redirect(reverse("finalphase:settings", args=[workshop, challenge]))
        status = 400
        settings.refresh_from_db()
    else:
        form = FinalSettingsForm(instance=settings)
    return render(
        request,
        "finalphase/settings_form.html",
        _context(request, ch, form=form, release_form=release_form),
        status=status,
    )


SUBMISSION_FILES = {"model": "model", "dynamic": "dynamic_model", "results": "results"}


@login_required
def submission_file(request, workshop, challenge, pk, which):
    """A submission's stored file, for the team and the organisers only (private storage, streamed)."""
    submission = _submission(request, workshop, challenge, pk)
    field = getattr(submission, SUBMISSION_FILES.get(which, ""), None)
    if not field:
        raise Http404("No such file.")
    names = {
        "model": "model.tflite",
        "dynamic": "model_dynamic.tflite",
        "results": field.name.rsplit("/", 1)[-1].split("-", 1)[-1],
    }
    return FileResponse(field.open("rb"), as_attachment=True, filename=f"{submission.team_id}-{names[which]}")


@login_required
def submissions_all(request, workshop, challenge):
    """Organisers: every final submission of every team, failures included, newest first."""
    ch = _challenge(request, workshop, challenge)
    if not request.user.has_perm("finalphase.manage", ch):
        raise PermissionDenied("Only the challenge's organisers see all submissions.")
    rows = selectors.model_submissions_for_challenge(challenge=ch)
    return render(request, "finalphase/submissions_all.html", _context(request, ch, submissions=rows))


@login_required
def team_file(request, workshop, challenge, team_id, which):
    """A team's fact-sheet attachment or code archive, for the team and the organisers only."""
    ch = _challenge(request, workshop, challenge)
    if which == "factsheet-attachment":
        obj = selectors.factsheet_get(challenge=ch, team_id=team_id)
        field, name = (obj.attachment, obj.attachment_name) if obj else (None, "")
    elif which == "code":
        obj = selectors.code_submission_get(challenge=ch, team_id=team_id)
        field, name = (obj.archive, obj.archive_name) if obj else (None, "")
    else:
        raise Http404("No such file.")
    if obj is None or not field or not request.user.has_perm("finalphase.view_team_material", obj):
        raise Http404("No such file.")
    return FileResponse(field.open("rb"), as_attachment=True, filename=name or which)
