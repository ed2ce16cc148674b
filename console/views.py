"""Pages of the console. Thin: reads through `selectors`, writes through `services`, permissions
through the `rules` predicates (`console.create_edition`, `console.manage_workshop`). Forms with
datetimes are built and read in the workshop's zone (`timezone.override`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from common.forms import add_refusal_to_messages
from conference.reviewing.views import remind_from_post

from . import selectors
from .forms import (
    DateFormSet,
    EditionCloneForm,
    EditionNewForm,
    OrganiserFormSet,
    RoleInviteForm,
    TopicsForm,
    workshop_section_form,
)
from .models import RoleInvitation
from .services import cloning, dates, editions, outbox, roles
from .services.editions import WORKSHOP_SECTIONS

SECTION_TITLES = {
    "cfp": "Call for papers",
    "format": "Format rules",
    "policies": "Policies",
    "venue": "Host conference and venue",
}
CLONE_SALT = "console.edition-clone"
DATES_SALT = "console.dates"


def _form_errors_from(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _chair_workshop(request, slug: str):
    workshop = selectors.workshop_for_console(slug=slug)
    if not request.user.has_perm("console.manage_workshop", workshop):
        # Not a chair: the edition's console does not exist for them (guessing slugs teaches nothing
        # about editions that are not public).
        raise Http404("No such page.")
    return workshop


def _may_create(request) -> None:
    if not request.user.has_perm("console.create_edition"):
        raise PermissionDenied("Only superusers and chairs of an edition may create editions.")


# --- Editions -----------------------------------------------------------------------------------


@login_required
def home(request):
    return render(
        request,
        "console/home.html",
        {
            "editions": selectors.editions_chaired(user=request.user).order_by("-start_date"),
            "may_create": request.user.has_perm("console.create_edition"),
        },
    )


@login_required
def edition_new(request):
    _may_create(request)
    form = EditionNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workshop = editions.edition_create(**form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(
                request, f"{workshop.short_name} was created. Add its dates, topics and tracks next."
            )
            return redirect("console:workshop", workshop=workshop.slug)
    return render(request, "console/edition_new.html", {"form": form})


@login_required
def edition_clone(request):
    """Form → confirmation page (what will be copied, counts, invitations to send) → the clone."""
    _may_create(request)
    sources = selectors.edition_list_for_cloning(user=request.user)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _edition_clone_confirmed(request, sources)
    form = EditionCloneForm(request.POST or None, sources=sources)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cloning.edition_clone_check(
                source=data["source"],
                slug=data["slug"],
                day_offset=data["day_offset"],
                short_name=data["short_name"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            preview = selectors.clone_preview(
                source=data["source"], reinvite_committee=data["reinvite_committee"], by=request.user
            )
            payload = signing.dumps({**data, "source": data["source"].pk}, salt=CLONE_SALT)
            return render(
                request,
                "console/edition_clone_confirm.html",
                {"data": data, "preview": preview, "payload": payload},
            )
    return render(request, "console/edition_clone.html", {"form": form})


def _edition_clone_confirmed(request, sources):
    try:
        data = signing.loads(request.POST.get("payload", ""), salt=CLONE_SALT, max_age=3600)
    except signing.BadSignature:
        messages.error(request, "This confirmation is too old or was altered: fill in the form again.")
        return redirect("console:edition-clone")
    source = sources.filter(pk=data["source"]).first()
    if source is None:
        raise Http404("No such edition.")
    try:
        result = cloning.edition_clone(
            source=source,
            name=data["name"],
            short_name=data["short_name"],
            slug=data["slug"],
            day_offset=data["day_offset"],
            reinvite_committee=data["reinvite_committee"],
            by=request.user,
        )
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
        return redirect("console:edition-clone")
    text = (
        f"{result.workshop.short_name} was created from {source.short_name}: {result.dates} dates, "
        f"{result.tracks} tracks and {result.milestones} milestones moved by {data['day_offset']} days"
    )
    if result.invitations:
        text += f"; {result.invitations} committee invitations sent"
    messages.success(request, text + ".")
    if result.uploaded_data_files_left:
        messages.warning(
            request,
            f"{result.uploaded_data_files_left} uploaded data files were not copied: upload them to the tracks.",
        )
    return redirect("console:workshop", workshop=result.workshop.slug)


# --- The chair's dashboard -----------------------------------------------------------------------


@login_required
def workshop(request, workshop):
    ws = _chair_workshop(request, workshop)
    now = timezone.now()
    undecided, unreleased = selectors.decisions_pending_count(workshop=ws)
    return render(
        request,
        "console/workshop.html",
        {
            "workshop": ws,
            "papers_by_status": selectors.papers_by_status(workshop=ws),
            "review": selectors.review_overview(workshop=ws, user=request.user, now=now),
            "conflicts_to_decide": selectors.conflicts_to_decide_count(workshop=ws, user=request.user),
            "undecided": undecided,
            "unreleased": unreleased,
            "outbox": selectors.outbox_counts(workshop=ws),
            "mail_failures": selectors.outbox_failures(workshop=ws),
            "mail_prefix": selectors.mail_subject_prefix(workshop=ws),
            "dates": selectors.important_dates(workshop=ws),
            "shown_at": now.isoformat(),
        },
    )


@login_required
@require_POST
def remind(request, workshop):
    """ "Remind" on the dashboard: one late reviewer (`user`) or every late one; once per click (the
    reviewing app's reminder, noted on the assignments)."""
    ws = _chair_workshop(request, workshop)
    remind_from_post(request, ws, late_only_when_named=True)
    return redirect("console:workshop", workshop=ws.slug)


@login_required
def outbox_retry(request, workshop):
    """Confirmation page (how many failed messages) → the retry of exactly the messages it listed
    (a failure that came later waits for its own confirmation; one sent meanwhile is left alone)."""
    ws = _chair_workshop(request, workshop)
    failures = selectors.outbox_failures(workshop=ws, limit=1000)
    if request.method == "POST":
        confirmed = [int(pk) for pk in request.POST.getlist("mail") if pk.isdecimal()]
        count = outbox.outbox_retry_failed(workshop=ws, mail_ids=confirmed)
        messages.success(request, f"{count} message(s) queued to be sent again.")
        if count < len(confirmed):
            messages.info(
                request,
                f"{len(confirmed) - count} of the messages you confirmed had been sent or queued meanwhile: "
                "left alone.",
            )
        return redirect("console:workshop", workshop=ws.slug)
    return render(request, "console/outbox_retry_confirm.html", {"workshop": ws, "failures": failures})


# --- Edit pages ---------------------------------------------------------------------------------


@login_required
def edit_section(request, workshop, section):
    ws = _chair_workshop(request, workshop)
    if section not in WORKSHOP_SECTIONS:
        raise Http404("No such page.")
    form_class = workshop_section_form(section)
    form = form_class(request.POST or None, instance=selectors.workshop_for_console(slug=ws.slug))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in WORKSHOP_SECTIONS[section]}
        new_zone = fields.get("time_zone", ws.time_zone)
        if new_zone != ws.time_zone and request.POST.get("action") != "confirm-zone":
            shown = selectors.dates_in_another_zone(workshop=ws, zone_key=new_zone)
            if shown:
                return render(
                    request,
                    "console/zone_confirm.html",
                    {
                        "workshop": ws,
                        "new_zone": new_zone,
                        "shown": shown,
                        "posted": [(k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"],
                    },
                )
        try:
            ws = editions.workshop_update(workshop=ws, section=section, fields=fields)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, f"{SECTION_TITLES[section]} saved.")
            return redirect("console:workshop", workshop=ws.slug)
    return render(
        request,
        "console/edit_section.html",
        {"workshop": ws, "form": form, "section": section, "title": SECTION_TITLES[section]},
    )


REMOVAL_SALT = "console.removal"


def _removal_confirm(request, ws, *, title: str, items: list[str], payload: dict, back: str):
    return render(
        request,
        "console/removal_confirm.html",
        {
            "workshop": ws,
            "title": title,
            "items": items,
            "payload": signing.dumps(payload, salt=REMOVAL_SALT),
            "back": back,
        },
    )


def _confirmed_payload(request, *, kind: str, fingerprint: str) -> dict | None:
    """The payload of a removal confirmation, if it is this page's, untouched and not stale."""
    try:
        payload = signing.loads(request.POST.get("payload", ""), salt=REMOVAL_SALT, max_age=3600)
    except signing.BadSignature:
        messages.error(request, "This confirmation is too old or was altered: make the change again.")
        return None
    if payload.get("kind") != kind or payload.get("fingerprint") != fingerprint:
        messages.error(
            request, "This page was changed by someone else meanwhile: check it and make the change again."
        )
        return None
    return payload


@login_required
def topics(request, workshop):
    """The topics, one per line; removing topics goes through a confirmation page."""
    ws = _chair_workshop(request, workshop)
    fingerprint = editions.topics_fingerprint(workshop=ws)
    text = None
    if request.method == "POST" and request.POST.get("action") == "confirm":
        payload = _confirmed_payload(request, kind="topics", fingerprint=fingerprint)
        if payload is None:
            return redirect("console:topics", workshop=ws.slug)
        text = payload["text"]
    current = "\n".join(t.name for t in ws.topics.all())
    form = TopicsForm(request.POST if text is None else None, initial={"topics": current})
    if text is None and request.method == "POST" and form.is_valid():
        removed = editions.topics_removed_by(workshop=ws, text=form.cleaned_data["topics"])
        if removed:
            return _removal_confirm(
                request,
                ws,
                title="Remove topics?",
                items=removed,
                payload={"kind": "topics", "fingerprint": fingerprint, "text": form.cleaned_data["topics"]},
                back=reverse("console:topics", kwargs={"workshop": ws.slug}),
            )
        text = form.cleaned_data["topics"]
    if text is not None:
        added, removed_count, kept = editions.topics_update(workshop=ws, text=text)
        messages.success(request, f"Topics saved: {added} added, {removed_count} removed.")
        if kept:
            messages.warning(
                request,
                "Kept because papers or reviewers chose them: " + ", ".join(f"“{k}”" for k in kept) + ".",
            )
        return redirect("console:topics", workshop=ws.slug)
    return render(request, "console/topics.html", {"workshop": ws, "form": form})


@login_required
def organisers(request, workshop):
    """The public list of organisers; removing one goes through a confirmation page."""
    ws = _chair_workshop(request, workshop)
    fingerprint = editions.organisers_fingerprint(workshop=ws)
    rows = None
    if request.method == "POST" and request.POST.get("action") == "confirm":
        payload = _confirmed_payload(request, kind="organisers", fingerprint=fingerprint)
        if payload is None:
            return redirect("console:organisers", workshop=ws.slug)
        rows = payload["rows"]
    initial = [
        {"name": o.name, "affiliation": o.affiliation, "email": o.email, "homepage": o.homepage}
        for o in ws.organisers.all()
    ]
    formset = OrganiserFormSet(request.POST if rows is None else None, initial=initial, prefix="org")
    if rows is None and request.method == "POST" and formset.is_valid():
        rows = [
            {k: f.cleaned_data[k] for k in ("name", "affiliation", "email", "homepage")}
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        removed = editions.organisers_removed_by(workshop=ws, rows=rows)
        if removed:
            return _removal_confirm(
                request,
                ws,
                title="Remove organisers?",
                items=removed,
                payload={"kind": "organisers", "fingerprint": fingerprint, "rows": rows},
                back=reverse("console:organisers", kwargs={"workshop": ws.slug}),
            )
    if rows is not None:
        count = editions.organisers_update(workshop=ws, rows=rows)
        messages.success(request, f"{count} organiser(s) saved.")
        return redirect("console:organisers", workshop=ws.slug)
    return render(request, "console/organisers.html", {"workshop": ws, "formset": formset})


# --- Important dates ----------------------------------------------------------------------------


def _date_rows(formset) -> list[dates.PlannedDate]:
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or (not data.get("pk") and not data.get("at")):
            continue  # an empty extra row
        rows.append(
            dates.PlannedDate(
                pk=data.get("pk"),
                kind=data["kind"],
                label=data.get("label", ""),
                at=None if data.get("remove") else data["at"],
            )
        )
    return rows


@login_required
def important_dates(request, workshop):
    """The editor (in the workshop's zone) → a confirmation page when a published date moves or is
    removed → saved and logged."""
    ws = _chair_workshop(request, workshop)
    with timezone.override(ws.zone):
        if request.method == "POST" and request.POST.get("action") == "confirm":
            return _dates_confirmed(request, ws)
        current = selectors.important_dates(workshop=ws)
        initial = [{"pk": d.pk, "kind": d.kind, "label": d.label, "at": d.at} for d in current]
        formset = DateFormSet(request.POST or None, initial=initial, prefix="dates")
        order_errors: list[str] = []
        if request.method == "POST" and formset.is_valid():
            try:
                plan = dates.dates_plan(workshop=ws, rows=_date_rows(formset))
            except ValidationError as exc:
                order_errors = exc.messages
            else:
                if plan.needs_confirmation:
                    payload = signing.dumps(plan.to_payload(), salt=DATES_SALT)
                    return render(
                        request,
                        "console/dates_confirm.html",
                        {"workshop": ws, "plan": plan, "payload": payload},
                    )
                count = dates.dates_apply(workshop=ws, plan=plan, by=request.user, confirmed=False)
                messages.success(request, f"Dates saved ({count} added).")
                return redirect("console:dates", workshop=ws.slug)
        current_by_pk = {d.pk: d for d in current}
        rows = [(form, current_by_pk.get(form.initial.get("pk"))) for form in formset.forms]
        return render(
            request,
            "console/dates.html",
            {
                "workshop": ws,
                "formset": formset,
                "rows": rows,
                "order_errors": order_errors,
                "log": selectors.date_change_log(workshop=ws),
                "zone_name": ws.time_zone,
            },
        )


def _dates_confirmed(request, ws):
    try:
        payload = signing.loads(request.POST.get("payload", ""), salt=DATES_SALT, max_age=3600)
        plan = dates.dates_plan_from_payload(workshop=ws, payload=payload)
        count = dates.dates_apply(workshop=ws, plan=plan, by=request.user, confirmed=True)
    except signing.BadSignature:
        messages.error(request, "This confirmation is too old or was altered: make the change again.")
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
    else:
        messages.success(request, f"Dates saved: {count} changed or added, each change logged.")
    return redirect("console:dates", workshop=ws.slug)


# --- Roles --------------------------------------------------------------------------------------


@login_required
def role_list(request, workshop):
    ws = _chair_workshop(request, workshop)
    form = RoleInviteForm(
        request.POST or None,
        challenges=selectors.challenges_of(workshop=ws),
        device_hosts=selectors.device_hosts_for(workshop=ws, user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            invitation = roles.role_invitation_create(
                workshop=ws, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}: {invitation.role_title}.")
            return redirect("console:roles", workshop=ws.slug)
    return render(
        request,
        "console/roles.html",
        {
            "workshop": ws,
            "form": form,
            "invitations": selectors.role_invitations(workshop=ws),
            "chairs": selectors.chairs_of(workshop=ws),
            "challenges": selectors.challenges_of(workshop=ws).prefetch_related("organisers"),
            "device_hosts": selectors.device_hosts_for(workshop=ws, user=request.user).prefetch_related(
                "operators"
            ),
        },
    )


@login_required
def role_revoke(request, workshop, pk):
    ws = _chair_workshop(request, workshop)
    invitation = selectors.role_invitation_get(workshop=ws, pk=pk)
    if invitation is None:
        raise Http404("No such invitation.")
    if request.method == "POST":
        try:
            roles.role_invitation_revoke(invitation=invitation)
        except ValidationError as exc:
            add_refusal_to_messages(request, exc)
        else:
            messages.success(
                request, f"The invitation of {invitation.email} was revoked: its link no longer works."
            )
        return redirect("console:roles", workshop=ws.slug)
    return render(request, "console/role_revoke_confirm.html", {"workshop": ws, "invitation": invitation})


def role_invitation(request, token):
    """The link in the e-mail: anyone with it may decline; accepting needs the invited address."""
    invitation = selectors.role_invitation_by_token(token=token)
    if invitation is None:
        raise Http404("No such invitation.")
    if request.method == "POST":
        accept = request.POST.get("answer") == "accept"
        try:
            roles.role_invitation_respond(invitation=invitation, accept=accept, user=request.user)
        except ValidationError as exc:
            add_refusal_to_messages(request, exc)
        else:
            if accept:
                messages.success(request, f"Welcome: you are now {invitation.role_title}.")
                return redirect(_landing(invitation))
            messages.info(request, "You declined the invitation.")
        return redirect("console:role-invitation", token=token)
    return render(
        request,
        "console/role_invitation.html",
        {
            "invitation": invitation,
            "pending": invitation.state == RoleInvitation.State.PENDING,
            "login_url": reverse("account_login") + "?" + urlencode({"next": request.path}),
            "signup_url": reverse("account_signup")
            + "?"
            + urlencode({"email": invitation.email, "next": request.path}),
        },
    )


def _landing(invitation: RoleInvitation) -> str:
    if invitation.role == RoleInvitation.Role.CO_CHAIR:
        return reverse("console:workshop", kwargs={"workshop": invitation.workshop.slug})
    if invitation.role == RoleInvitation.Role.CHALLENGE_ORGANISER:
        return invitation.challenge.get_absolute_url()
    return reverse("evaluation:device-lab")  # a device operator: the devices they may pause and resume
