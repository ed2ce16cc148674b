"""Pages of the proceedings app. Public: accepted papers (with published PDFs and BibTeX), the
programme and its iCalendar feed, partner logos and speaker photos. Chairs (`proceedings.manage`):
settings and the publish switch, the programme editor, invited talks, partners, proceedings exports.
Thin: reads from selectors, writes through services."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.uploads import upload_limited, upload_refused
from conference.selectors import workshop_get

from . import selectors, services
from .forms import InvitedTalkForm, PartnerForm, SessionForm, SettingsForm, SlotForm
from .ical import programme_calendar
from .models import ProceedingsExport


def _chair_workshop(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    if not request.user.is_authenticated:
        raise _LoginRequired
    if not request.user.has_perm("proceedings.manage", ws):
        raise PermissionDenied("Only the chairs of this edition manage its proceedings and programme.")
    return ws


class _LoginRequired(Exception):
    pass


def chair_view(view):
    def wrapper(request, workshop, *args, **kwargs):
        try:
            ws = _chair_workshop(request, workshop)
        except _LoginRequired:
            return redirect_to_login(request.get_full_path())
        return view(request, ws, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# --- Public ------------------------------------------------------------------------------------------


def accepted_papers(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    group_by = "topic" if request.GET.get("group") == "topic" else "session"
    groups = selectors.paper_entries(workshop=ws, group_by=group_by)
    return render(
        request,
        "proceedings/accepted_papers.html",
        {
            "workshop": ws,
            "groups": groups,
            "group_by": group_by,
            "settings": selectors.proceedings_settings_for(workshop=ws),
            "can_manage": request.user.has_perm("proceedings.manage", ws),
        },
    )


def accepted_paper_pdf(request, workshop, number):
    ws = workshop_get(slug=workshop, user=request.user)
    found = selectors.published_pdf_paper(workshop=ws, number=number)
    if found is None:
        raise Http404("This paper's PDF is not published.")
    paper, pdf = found
    return FileResponse(
        pdf.open("rb"), content_type="application/pdf", filename=f"{ws.slug}-paper-{paper.number}.pdf"
    )


def programme(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    sessions = selectors.programme_sessions(workshop=ws)
    for session in sessions:
        for slot in session.slots.all():  # prefetched: the template reads `slot.winners`, `slot.paper_talk`
            if slot.paper_id:
                slot.paper_talk = selectors.paper_talk(paper=slot.paper)
            if slot.challenge_id:
                slot.winners = selectors.challenge_winners(challenge=slot.challenge, user=request.user)
    return render(
        request,
        "proceedings/programme.html",
        {
            "workshop": ws,
            "sessions": sessions,
            "partners": selectors.partners(workshop=ws),
            "talks": selectors.invited_talks(workshop=ws),
            "can_manage": request.user.has_perm("proceedings.manage", ws),
        },
    )


def programme_ics(request, workshop):
    ws = workshop_get(slug=workshop, user=request.user)
    response = HttpResponse(programme_calendar(workshop=ws), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{ws.slug}-programme.ics"'
    return response


def partner_logo(request, workshop, pk):
    ws = workshop_get(slug=workshop, user=request.user)
    partner = selectors.partner_get(workshop=ws, pk=pk)
    if partner is None or not partner.logo:
        raise Http404("No such logo.")
    response = FileResponse(partner.logo.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def talk_photo(request, workshop, pk):
    ws = workshop_get(slug=workshop, user=request.user)
    talk = selectors.invited_talk_get(workshop=ws, pk=pk)
    if talk is None or not talk.photo:
        raise Http404("No such photo.")
    response = FileResponse(talk.photo.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- Chairs: settings and exports ------------------------------------------------------------------------


@chair_view
def manage(request, ws):
    current = selectors.proceedings_settings_for(workshop=ws)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            services.proceedings_settings_update(workshop=ws, **form.cleaned_data)
            messages.success(request, "The proceedings settings were saved.")
            return redirect("proceedings:manage", workshop=ws.slug)
    else:
        form = SettingsForm(
            initial={
                "pdfs_published": current.pdfs_published,
                "month": current.month,
                "preface": current.preface,
            }
        )
    return render(
        request,
        "proceedings/manage.html",
        {
            "workshop": ws,
            "form": form,
            "exports": selectors.exports_of(workshop=ws),
            "accepted_count": selectors.accepted_papers(workshop=ws).count(),
            "ready_count": selectors.camera_ready_count(workshop=ws),
        },
    )


@chair_view
@require_POST
def export_start(request, ws):
    export = services.export_request(workshop=ws, user=request.user)
    return redirect(export.get_absolute_url())


def _export(request, ws, pk) -> ProceedingsExport:
    services.exports_sweep(workshop=ws)  # every poll also fails an export nobody advances
    export = selectors.export_get(workshop=ws, pk=pk)
    if export is None:
        raise Http404("No such export.")
    return export


@chair_view
def export_detail(request, ws, pk):
    return render(request, "proceedings/export.html", {"workshop": ws, "export": _export(request, ws, pk)})


@chair_view
def export_status(request, ws, pk):
    return render(
        request, "proceedings/_export_status.html", {"workshop": ws, "export": _export(request, ws, pk)}
    )


@chair_view
def export_download(request, ws, pk):
    export = _export(request, ws, pk)
    if export.state != ProceedingsExport.State.DONE or not export.archive:
        raise Http404("This export has no zip.")
    name = export.archive.name.rsplit("/", 1)[-1]
    return FileResponse(
        export.archive.open("rb"), as_attachment=True, filename=name, content_type="application/zip"
    )


# --- Chairs: programme ---------------------------------------------------------------------------------


@chair_view
def programme_edit(request, ws):
    form = SessionForm(request.POST or None, workshop=ws)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_save(workshop=ws, **form.cleaned_data)
        except services.ProceedingsRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Session “{session.title}” was added.")
            return redirect("proceedings:session", workshop=ws.slug, pk=session.pk)
    return render(
        request,
        "proceedings/programme_edit.html",
        {"workshop": ws, "form": form, "sessions": selectors.programme_sessions(workshop=ws)},
    )


@chair_view
def session_edit(request, ws, pk):
    session = selectors.session_get(workshop=ws, pk=pk)
    if session is None:
        raise Http404("No such session.")
    session_form = SessionForm(
        initial={
            "title": session.title,
            "room": session.room,
            "chair_name": session.chair_name,
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
        },
        workshop=ws,
    )
    last = session.slots.order_by("-ends_at").first()
    slot_form = SlotForm(
        initial={"starts_at": last.ends_at if last else session.starts_at, "ends_at": None}, workshop=ws
    )
    if request.method == "POST" and request.POST.get("form") == "session":
        session_form = SessionForm(request.POST, workshop=ws)
        if session_form.is_valid():
            try:
                services.session_save(workshop=ws, session=session, **session_form.cleaned_data)
            except services.ProceedingsRefused as exc:
                session_form.add_error(None, exc.message)
            else:
                messages.success(request, "The session was saved.")
                return redirect("proceedings:session", workshop=ws.slug, pk=session.pk)
    elif request.method == "POST":
        slot_form = SlotForm(request.POST, workshop=ws)
        if slot_form.is_valid():
            try:
                slot = services.slot_save(session=session, **slot_form.cleaned_data)
            except services.ProceedingsRefused as exc:
                slot_form.add_error(None, exc.message)
            else:
                messages.success(request, f"{slot.get_kind_display()} {services.slot_label(slot)} was added.")
                return redirect("proceedings:session", workshop=ws.slug, pk=session.pk)
    return render(
        request,
        "proceedings/session_edit.html",
        {
            "workshop": ws,
            "session": session,
            "slots": session.slots.select_related("paper", "talk", "challenge").order_by("starts_at"),
            "session_form": session_form,
            "slot_form": slot_form,
        },
    )


@chair_view
@require_POST
def session_delete(request, ws, pk):
    session = selectors.session_get(workshop=ws, pk=pk)
    if session is None:
        raise Http404("No such session.")
    services.session_delete(session=session)
    messages.success(request, f"Session “{session.title}” and its slots were deleted.")
    return redirect("proceedings:programme-edit", workshop=ws.slug)


@chair_view
@require_POST
def slot_delete(request, ws, pk):
    slot = selectors.slot_get(workshop=ws, pk=pk)
    if slot is None:
        raise Http404("No such slot.")
    session_pk = slot.session_id
    services.slot_delete(slot=slot)
    messages.success(request, "The slot was deleted.")
    return redirect("proceedings:session", workshop=ws.slug, pk=session_pk)


# --- Chairs: invited talks and partners (image uploads) --------------------------------------------


def _image_limits(request, *args, **kwargs):
    return {"photo": selectors.image_max_bytes(), "logo": selectors.image_max_bytes()}


def _refusal(page, empty_form):
    """The answer to an upload refused from its Content-Length, before the body was read."""

    def refuse(request, message, workshop, pk=None):
        try:
            ws = _chair_workshop(request, workshop)
        except _LoginRequired:
            return redirect_to_login(request.get_full_path())
        return page(request, ws, empty_form(), None, message, status=413)

    return refuse


def _editor_page(template: str, item: str, listed):
    """The page of a list the chairs edit (talks, partners): the form for one `item` (or a new one),
    the refusal of an upload, and every item of the edition from the selector `listed`."""

    def page(request, ws, form, obj, error="", status=200):
        context = {"workshop": ws, "form": form, "refusal": error, item: obj, f"{item}s": listed(workshop=ws)}
        return render(request, template, context, status=status)

    return page


_talk_page = _editor_page(
    "proceedings/talks.html", "talk", lambda workshop: selectors.invited_talks(workshop=workshop)
)


@upload_limited(_image_limits, _refusal(lambda *a, **k: _talk_page(*a, **k), InvitedTalkForm))
@chair_view
def talks(request, ws, pk=None):
    talk = selectors.invited_talk_get(workshop=ws, pk=pk) if pk else None
    if pk and talk is None:
        raise Http404("No such talk.")
    if request.method != "POST":
        initial = (
            {f: getattr(talk, f) for f in ("speaker", "affiliation", "title", "abstract", "bio")}
            if talk
            else None
        )
        return _talk_page(request, ws, InvitedTalkForm(initial=initial), talk)
    form = InvitedTalkForm(request.POST, request.FILES)
    refused = upload_refused(request)
    if refused:
        return _talk_page(request, ws, form, talk, refused, status=413)
    if form.is_valid():
        try:
            talk = services.invited_talk_save(workshop=ws, talk=talk, **form.cleaned_data)
        except services.ProceedingsRefused as exc:
            form.add_error("photo", exc.message)
        else:
            messages.success(request, f"The talk “{talk.title}” by {talk.speaker} was saved.")
            return redirect("proceedings:talks", workshop=ws.slug)
    return _talk_page(request, ws, form, talk)


_partner_page = _editor_page(
    "proceedings/partners.html", "partner", lambda workshop: selectors.partners(workshop=workshop)
)


@upload_limited(_image_limits, _refusal(lambda *a, **k: _partner_page(*a, **k), PartnerForm))
@chair_view
def partners(request, ws, pk=None):
    partner = selectors.partner_get(workshop=ws, pk=pk) if pk else None
    if pk and partner is None:
        raise Http404("No such partner.")
    if request.method != "POST":
        initial = {"name": partner.name, "url": partner.url, "order": partner.order} if partner else None
        return _partner_page(request, ws, PartnerForm(initial=initial), partner)
    if request.POST.get("delete") and partner is not None:
        services.partner_delete(partner=partner)
        messages.success(request, f"Partner “{partner.name}” was removed.")
        return redirect("proceedings:partners", workshop=ws.slug)
    form = PartnerForm(request.POST, request.FILES)
    refused = upload_refused(request)
    if refused:
        return _partner_page(request, ws, form, partner, refused, status=413)
    if form.is_valid():
        data = form.cleaned_data
        try:
            partner = services.partner_save(
                workshop=ws,
                partner=partner,
                name=data["name"],
                url=data["url"],
                order=data["order"] or 0,
                logo=data["logo"],
            )
        except services.ProceedingsRefused as exc:
            form.add_error("logo", exc.message)
        else:
            messages.success(request, f"Partner “{partner.name}” was saved.")
            return redirect("proceedings:partners", workshop=ws.slug)
    return _partner_page(request, ws, form, partner)
