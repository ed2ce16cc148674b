"""Pages of the organiser console under /<workshop>/challenges/: `new/` (chairs add a track) and
`<track>/manage/…` (the track's organisers and the edition's chairs): the track and its scoring with a
live formula preview, the model contract (or read from a reference model), milestones with the
timeline picture, data files, and the confirmation pages of deletions. Thin views over `services`,
`selectors`, `charts` and the `rules` permissions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.forms import add_refusal_to_form, add_refusal_to_messages
from common.uploads import upload_limited, upload_refused
from conference.selectors import workshop_get
from evaluation import selectors as evaluation_selectors

from .. import selectors as challenge_selectors
from .. import timeline
from ..forms import DataFileForm
from ..models import Challenge
from ..services import data as data_services
from ..services.base import ChallengeError
from . import charts, forms, milestones, selectors, services
from . import rules as _rules  # noqa: F401 - registers challenges.add_challenge


def _managed(request, workshop: str, challenge: str) -> Challenge:
    ws = workshop_get(slug=workshop, user=request.user)
    ch = challenge_selectors.challenge_get(workshop=ws, slug=challenge)
    if ch is None:
        raise Http404("No such challenge.")
    if not request.user.has_perm("challenges.manage_challenge", ch):
        raise PermissionDenied
    return ch


def _ctx(ch: Challenge, tab: str, **extra) -> dict:
    return {"workshop": ch.workshop, "challenge": ch, "tab": tab, **extra}


# --- A new track ------------------------------------------------------------------------------------


@login_required
def track_new(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    if not request.user.has_perm("challenges.add_challenge", ws):
        raise PermissionDenied
    form = forms.NewTrackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            ch = services.track_create(
                workshop=ws, by=request.user, title=data.pop("title"), slug=data.pop("slug"), **data
            )
        except ChallengeError as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request, f"The track “{ch.title}” was created. Set its contract, milestones and data next."
            )
            return redirect("challenges:console-track", workshop=ws.slug, challenge=ch.slug)
    return render(request, "console/organiser/track_new.html", {"workshop": ws, "form": form})


# --- Track and scoring ------------------------------------------------------------------------------


@login_required
def track_edit(request, workshop, challenge):
    ch = _managed(request, workshop, challenge)
    fp = selectors.final_settings(challenge=ch)
    action = request.POST.get("action") if request.method == "POST" else None
    track_form = forms.TrackForm(request.POST if action == "track" else None, instance=ch)
    metric_formset = forms.MetricFormSet(
        request.POST if action == "track" else None,
        initial=forms.metrics_initial(ch.metrics),
        prefix="metrics",
    )
    scoring_form = forms.ScoringForm(
        request.POST if action == "scoring" else None,
        prefix="scoring",
        current=(fp.device_slug, fp.accelerator),
        initial={
            "score_formula": fp.score_formula,
            "constants": fp.constants,
            "device_slug": fp.device_slug,
            "accelerator": fp.accelerator,
        },
    )
    if action == "track" and track_form.is_valid() and metric_formset.is_valid():
        try:
            services.track_update(
                challenge=ch, metrics=forms.metrics_from(metric_formset), **track_form.cleaned_data
            )
        except ChallengeError as exc:
            add_refusal_to_form(track_form, exc)
        else:
            messages.success(request, "The track was saved.")
            return redirect("challenges:console-track", workshop=ch.workshop.slug, challenge=ch.slug)
    if action == "scoring" and scoring_form.is_valid():
        try:
            services.track_scoring_set(challenge=ch, **scoring_form.cleaned_data)
        except ChallengeError as exc:
            add_refusal_to_form(scoring_form, exc)
        else:
            messages.success(request, "The score formula and target device were saved; scores recomputed.")
            return redirect("challenges:console-track", workshop=ch.workshop.slug, challenge=ch.slug)
    if action == "track":
        ch.refresh_from_db()
    preview = selectors.formula_preview(
        challenge=ch,
        source=scoring_form["score_formula"].value() or "",
        constants=fp.constants if action != "scoring" else _constants_or_empty(scoring_form),
    )
    return render(
        request,
        "console/organiser/track.html",
        _ctx(
            ch,
            "track",
            track_form=track_form,
            metric_formset=metric_formset,
            scoring_form=scoring_form,
            preview=preview,
            settings_url=reverse("finalphase:settings", args=[ch.workshop.slug, ch.slug]),
        ),
    )


def _constants_or_empty(form) -> dict:
    try:
        return form.fields["constants"].to_python(form["constants"].value())
    except Exception:  # noqa: BLE001 - the form shows the constants' own error
        return {}


@login_required
def formula_preview(request, workshop, challenge):
    """The htmx fragment: the formula typed so far, on the track's current results (a read)."""
    ch = _managed(request, workshop, challenge)
    field = forms.ScoringForm.base_fields["constants"]
    try:
        constants = field.to_python(request.GET.get("scoring-constants", ""))
        preview = selectors.formula_preview(
            challenge=ch, source=request.GET.get("scoring-score_formula", ""), constants=constants
        )
    except ValidationError as exc:
        preview = selectors.FormulaPreview(error=" ".join(exc.messages))
    return render(request, "console/organiser/_formula_preview.html", {"preview": preview, "challenge": ch})


# --- Contract ---------------------------------------------------------------------------------------


def _model_limit(request, workshop, challenge) -> int:
    return evaluation_selectors.max_model_bytes()


def _refuse_model(request, message, workshop, challenge):
    messages.error(request, message)
    return redirect("challenges:console-contract", workshop=workshop, challenge=challenge)


def _contract_initial(ch: Challenge) -> dict:
    return {
        "input_shape": list(ch.input_shape or []),
        "input_dtype": ch.input_dtype,
        "output_shape": list(ch.output_shape or []),
        "output_dtype": ch.output_dtype,
        "value_range_min": ch.value_range_min,
        "value_range_max": ch.value_range_max,
        "int8_required": ch.int8_required,
    }


@upload_limited(_model_limit, _refuse_model)
@login_required
def contract(request, workshop, challenge):
    ch = _managed(request, workshop, challenge)
    action = request.POST.get("action") if request.method == "POST" else None
    contract_form = forms.ContractForm(
        request.POST if action == "contract" else None, initial=_contract_initial(ch)
    )
    model_form = forms.ReferenceModelForm()
    notes: list[str] = []
    if action == "read":
        request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
        if upload_refused(request):
            messages.error(request, upload_refused(request))
            return redirect("challenges:console-contract", workshop=ch.workshop.slug, challenge=ch.slug)
        model_form = forms.ReferenceModelForm(request.POST, request.FILES)
        if model_form.is_valid():
            try:
                read = services.contract_from_reference_model(
                    data=model_form.cleaned_data["reference_model"].read()
                )
            except ChallengeError as exc:
                add_refusal_to_form(model_form, exc, field="reference_model")
            else:
                initial = {**_contract_initial(ch), **read.values}
                initial["input_shape"] = _shape_text(read.values["input_shape"])
                initial["output_shape"] = _shape_text(read.values["output_shape"])
                contract_form = forms.ContractForm(initial=initial)
                notes = ["The form below is filled from the model: review it and save."] + read.notes
    if action == "contract" and contract_form.is_valid():
        try:
            services.track_contract_set(challenge=ch, **contract_form.cleaned_data)
        except ChallengeError as exc:
            add_refusal_to_form(contract_form, exc)
        else:
            messages.success(request, "The model contract was saved.")
            return redirect("challenges:console-contract", workshop=ch.workshop.slug, challenge=ch.slug)
    return render(
        request,
        "console/organiser/contract.html",
        _ctx(
            ch,
            "contract",
            contract_form=contract_form,
            model_form=model_form,
            notes=notes,
            max_model_mb=evaluation_selectors.max_model_bytes() // 2**20,
        ),
    )


def _shape_text(shape: list) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)


# --- Milestones -------------------------------------------------------------------------------------


@login_required
def milestones_edit(request, workshop, challenge):
    ch = _managed(request, workshop, challenge)
    current = selectors.milestones_of(challenge=ch)
    form = forms.MilestonesForm(request.POST or None, workshop=ch.workshop, initial_times=current)
    if request.method == "POST" and form.is_valid():
        confirmed = request.POST.get("fingerprint") if request.POST.get("confirm") else None
        try:
            services.milestones_check(challenge=ch, values=form.milestones)
            moves = selectors.milestone_moves(challenge=ch, values=form.milestones)
            if moves and confirmed is None:
                # A published milestone moves or goes: show what changes, and ask.
                return render(
                    request,
                    "console/organiser/milestones_confirm.html",
                    _ctx(
                        ch,
                        "milestones",
                        moves=moves,
                        fingerprint=selectors.milestones_fingerprint(challenge=ch),
                        carried=[(name, request.POST.get(name, "")) for name in form.fields],
                    ),
                )
            changed = services.milestones_set(
                challenge=ch, values=form.milestones, by=request.user, confirmed_fingerprint=confirmed
            )
        except ChallengeError as exc:
            add_refusal_to_form(form, exc)
        else:
            if changed:
                names = ", ".join(selectors.milestone_label(k) for k in changed)
                messages.success(request, f"Saved: {names}.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("challenges:console-milestones", workshop=ch.workshop.slug, challenge=ch.slug)
    now = timezone.now()
    tl = challenge_selectors.timeline_for(ch)
    return render(
        request,
        "console/organiser/milestones.html",
        _ctx(
            ch,
            "milestones",
            form=form,
            rows=[(form[kind], current.get(kind)) for kind in milestones.MILESTONE_ORDER],
            now=now,
            svg=charts.timeline_svg(
                tl,
                now,
                label=selectors.milestone_label,
                short_date=lambda at: selectors.short_date(at, ch.workshop),
            ),
            open_now=milestones.open_now(tl, now),
            phase=timeline.phase_open(tl, now),
        ),
    )


# --- Data files -------------------------------------------------------------------------------------


def _data_limit(request, workshop, challenge) -> dict[str, int]:
    return {"upload": settings.MAX_UPLOAD_BYTES}


def _refuse_data(request, message, workshop, challenge):
    messages.error(request, message)
    return redirect("challenges:console-data", workshop=workshop, challenge=challenge)


@upload_limited(_data_limit, _refuse_data, labels={"upload": "a data file"})
@login_required
def data_files(request, workshop, challenge):
    ch = _managed(request, workshop, challenge)
    if request.method == "POST":
        request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
        if upload_refused(request):
            messages.error(request, upload_refused(request))
            return redirect("challenges:console-data", workshop=ch.workshop.slug, challenge=ch.slug)
    form = DataFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data_services.data_file_create(challenge=ch, **form.cleaned_data)
        except ChallengeError as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, "The data file was stored.")
            return redirect("challenges:console-data", workshop=ch.workshop.slug, challenge=ch.slug)
    return render(
        request,
        "console/organiser/data.html",
        _ctx(
            ch,
            "data",
            form=form,
            rows=challenge_selectors.data_files_for(challenge=ch, user=request.user),
            max_upload_mb=settings.MAX_UPLOAD_BYTES // 2**20,
        ),
    )


@login_required
def data_file_delete(request, workshop, challenge, pk):
    ch = _managed(request, workshop, challenge)
    data_file = challenge_selectors.data_file_get(challenge=ch, pk=pk)
    if data_file is None:
        raise Http404("No such data file.")
    deletion = selectors.data_file_deletion(data_file=data_file)
    if request.method == "POST":
        try:
            services.data_file_delete(data_file=data_file, fingerprint=request.POST.get("fingerprint", ""))
        except ChallengeError as exc:
            add_refusal_to_messages(request, exc)
        else:
            messages.success(request, f"“{data_file.title}” was deleted.")
            return redirect("challenges:console-data", workshop=ch.workshop.slug, challenge=ch.slug)
    return render(
        request,
        "console/organiser/confirm.html",
        _ctx(
            ch,
            "data",
            heading=f"Delete the data file “{data_file.title}”?",
            what=data_file.get_split_display(),
            deletion=deletion,
            cancel=reverse("challenges:console-data", args=[ch.workshop.slug, ch.slug]),
            button="Delete the file",
        ),
    )


@login_required
def track_delete(request, workshop, challenge):
    ch = _managed(request, workshop, challenge)
    deletion = selectors.track_deletion(challenge=ch)
    if request.method == "POST" and not deletion.blocked:
        try:
            services.track_delete(challenge=ch, fingerprint=request.POST.get("fingerprint", ""))
        except ChallengeError as exc:
            add_refusal_to_messages(request, exc)
        else:
            messages.success(request, f"The track “{ch.title}” was deleted.")
            return redirect("challenges:list", workshop=ch.workshop.slug)
    return render(
        request,
        "console/organiser/confirm.html",
        _ctx(
            ch,
            "track",
            heading=f"Delete the track “{ch.title}”?",
            what="The track, its milestones, registrations and data files",
            deletion=deletion,
            cancel=reverse("challenges:console-track", args=[ch.workshop.slug, ch.slug]),
            button="Delete the track",
        ),
    )


# --- Dashboard (the track's manage page) ------------------------------------------------------------


@login_required
@require_POST
def failed_rescore(request, workshop, challenge):
    """The dashboard's "Score the failed submissions again" button."""
    ch = _managed(request, workshop, challenge)
    count = services.failed_submissions_rescore(challenge=ch)
    if count:
        messages.success(request, f"{count} failed validation submission(s) queued to be scored again.")
    else:
        messages.info(request, "No validation submission of this track has failed.")
    return redirect("challenges:manage", workshop=ch.workshop.slug, challenge=ch.slug)


def dashboard_context(ch: Challenge) -> dict:
    """What `challenges.views.manage` adds for the organiser's dashboard."""
    board = selectors.dashboard(challenge=ch)
    return {
        "tab": "dashboard",
        "board": board,
        "per_day_svg": charts.bars_svg(board.per_day, title="Submissions per day, last 14 days"),
    }
