"""Camera-ready pages of one edition, under /<edition>/camera-ready/: an accepted paper's task (final
PDF with its check report, metadata, copyright/licence form and receipt), the file downloads, a
chair's per-paper extension, and the chairs' status page (settings, reminders with a confirmation
page, CSV).

Thin: permissions from `rules` (over `conference.rules`), reads from `selectors`, writes from
`services`. The upload view refuses an oversized request from its Content-Length before reading the
body and stops a file that grows past CAMERA_READY_PDF_MAX_BYTES (`common.uploads`)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.csv_export import csv_response
from common.forms import add_refusal_to_form
from common.uploads import upload_limited, upload_refused
from conference import selectors as conference_selectors
from conference.models import Paper
from config.middleware import arrived_at

from . import selectors, services
from .forms import (
    AgreementForm,
    AgreementVoidForm,
    CameraReadyExtensionForm,
    FinalAuthorFormSet,
    FinalPdfForm,
    MetadataForm,
    RemindForm,
    SettingsForm,
)


def _paper_for(request, workshop: str, number: int, perm: str) -> Paper:
    ws = conference_selectors.workshop_get(slug=workshop, user=request.user)
    paper = conference_selectors.paper_get(workshop=ws, number=number)
    if not request.user.has_perm(perm, paper):
        if request.user.has_perm("cameraready.see", paper):
            raise PermissionDenied("You may not do this with this paper.")
        raise Http404("No camera-ready for this paper.")  # nobody learns which numbers exist
    return paper


def _workshop_for_chair(request, workshop: str):
    ws = conference_selectors.workshop_get(slug=workshop, user=request.user)
    if not request.user.has_perm("cameraready.manage", ws):
        raise Http404("No such page.")
    return ws


def _task_context(request, paper: Paper, **forms) -> dict:
    metadata = selectors.final_metadata(paper)
    versions = selectors.final_versions(paper)
    licence, text, version = selectors.agreement_text(paper.workshop)
    agreement = selectors.agreement_get(paper)
    deadline = selectors.camera_ready_deadline(paper)
    can_edit = request.user.has_perm("cameraready.edit", paper)
    authors_initial = [{k: a[k] for k in ("name", "affiliation", "email")} for a in metadata["authors"]]
    return {
        "workshop": paper.workshop,
        "paper": paper,
        "metadata": metadata,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "current": selectors.final_version_current(paper),
        "deadline": deadline,
        "extended": deadline is not None and deadline != selectors.edition_deadline(paper.workshop),
        "is_open": selectors.camera_ready_is_open(paper),
        "can_edit": can_edit,
        "is_chair": request.user.has_perm("cameraready.extend", paper),
        "agreement": agreement,
        "agreement_licence": selectors.licence_label(licence),
        "agreement_text": text,
        "agreement_version": version,
        "max_mb": settings.CAMERA_READY_PDF_MAX_BYTES // 2**20,
        "pdf_form": forms.get("pdf_form") or FinalPdfForm(),
        "metadata_form": forms.get("metadata_form")
        or MetadataForm(initial={"title": metadata["title"], "abstract": metadata["abstract"]}),
        "author_formset": forms.get("author_formset")
        or FinalAuthorFormSet(initial=authors_initial, prefix="authors"),
        "agreement_form": forms.get("agreement_form")
        or AgreementForm(
            initial={
                "text_version": version,
                "on_behalf_of": "authors",
                "signer_name": getattr(getattr(request.user, "profile", None), "full_name", ""),
            }
        ),
        "extension_form": CameraReadyExtensionForm(workshop=paper.workshop),
        "void_form": AgreementVoidForm(),
    }


@login_required
def paper_task(request, workshop, number):
    paper = _paper_for(request, workshop, number, "cameraready.see")
    return render(request, "cameraready/paper.html", _task_context(request, paper))


def _upload_limits(request, *args, **kwargs) -> dict[str, int]:
    return {"pdf": int(settings.CAMERA_READY_PDF_MAX_BYTES)}


def _refuse_upload(request, message, workshop, number):
    messages.error(request, message)
    return redirect("cameraready:paper", workshop=workshop, number=number)


@upload_limited(_upload_limits, _refuse_upload, {"pdf": "the final PDF"})
@login_required
@require_POST
def final_upload(request, workshop, number):
    paper = _paper_for(request, workshop, number, "cameraready.edit")
    form = FinalPdfForm(request.POST, request.FILES)
    refused = upload_refused(request)
    if refused:
        messages.error(request, refused)
        return redirect("cameraready:paper", workshop=workshop, number=number)
    if form.is_valid():
        try:
            version = services.final_upload(
                paper=paper, user=request.user, pdf=form.cleaned_data["pdf"], now=arrived_at(request)
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Final PDF version {version.number} received; it is being checked.")
            return redirect("cameraready:paper", workshop=workshop, number=number)
    context = _task_context(request, paper, pdf_form=form)
    return render(request, "cameraready/paper.html", context, status=400)


@login_required
def check_status(request, workshop, number):
    """The htmx fragment of the newest final PDF's check (polled every second while pending)."""
    paper = _paper_for(request, workshop, number, "cameraready.see")
    versions = selectors.final_versions(paper)
    return render(
        request,
        "cameraready/_check.html",
        {
            "workshop": paper.workshop,
            "paper": paper,
            "latest": versions[0] if versions else None,
            "current": selectors.final_version_current(paper),
        },
    )


@login_required
@require_POST
def metadata_confirm(request, workshop, number):
    paper = _paper_for(request, workshop, number, "cameraready.edit")
    form = MetadataForm(request.POST)
    formset = FinalAuthorFormSet(request.POST, prefix="authors")
    if form.is_valid() and formset.is_valid():
        try:
            services.metadata_confirm(
                paper=paper,
                user=request.user,
                title=form.cleaned_data["title"],
                abstract=form.cleaned_data["abstract"],
                authors=formset.authors(),
                now=arrived_at(request),
            )
        except ValidationError as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, "The final title, authors and abstract are confirmed.")
            return redirect("cameraready:paper", workshop=workshop, number=number)
    context = _task_context(request, paper, metadata_form=form, author_formset=formset)
    return render(request, "cameraready/paper.html", context, status=400)


@login_required
@require_POST
def agreement_sign(request, workshop, number):
    paper = _paper_for(request, workshop, number, "cameraready.edit")
    form = AgreementForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.agreement_sign(
                paper=paper,
                user=request.user,
                signer_name=data["signer_name"],
                on_behalf_of=data["on_behalf_of"],
                employer=data["employer"],
                text_version=data["text_version"],
                agreed=data["agreed"],
                now=arrived_at(request),
            )
        except ValidationError as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, "The form is signed; the receipt was e-mailed to every author.")
            return redirect("cameraready:paper", workshop=workshop, number=number)
    context = _task_context(request, paper, agreement_form=form)
    return render(request, "cameraready/paper.html", context, status=400)


@login_required
def final_file(request, workshop, number, version):
    paper = _paper_for(request, workshop, number, "cameraready.see")
    found = selectors.final_version_get(paper, version)
    if found is None:
        raise Http404("No such version.")
    return FileResponse(
        found.pdf.open("rb"), as_attachment=True, filename=f"paper-{paper.number}-final-v{found.number}.pdf"
    )


@login_required
def receipt(request, workshop, number):
    paper = _paper_for(request, workshop, number, "cameraready.see")
    agreement = selectors.agreement_get(paper)
    if agreement is None or not agreement.receipt:
        raise Http404("No signed form yet.")
    return FileResponse(
        agreement.receipt.open("rb"),
        as_attachment=True,
        filename=f"paper-{paper.number}-agreement-receipt.pdf",
    )


@login_required
@require_POST
def extend(request, workshop, number):
    paper = _paper_for(request, workshop, number, "cameraready.extend")
    form = CameraReadyExtensionForm(request.POST, workshop=paper.workshop)
    if form.is_valid():
        services.extension_set(paper=paper, until=form.cleaned_data["until"], user=request.user)
        messages.success(request, f"The camera-ready deadline of paper #{paper.number} was extended.")
    else:
        messages.error(request, "Enter the date and time the extension ends.")
    return redirect("cameraready:paper", workshop=workshop, number=number)


@login_required
@require_POST
def agreement_void(request, workshop, number):
    """A chair voids a signature given by mistake; the authors sign again."""
    paper = _paper_for(request, workshop, number, "cameraready.extend")
    form = AgreementVoidForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Say why the signature is voided; the authors receive the reason. Nothing was changed."
        )
        return redirect("cameraready:paper", workshop=workshop, number=number)
    try:
        agreement = services.agreement_void(
            paper=paper, user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("cameraready:paper", workshop=workshop, number=number)
    note = f"The form signed by {agreement.signer_name} is void; the authors were asked to sign again."
    if not selectors.camera_ready_is_open(paper):
        note += " The deadline has passed: extend it for this paper so that they can."
    messages.success(request, note)
    return redirect("cameraready:paper", workshop=workshop, number=number)


# --- Chairs ----------------------------------------------------------------------------------------


@login_required
def manage(request, workshop):
    ws = _workshop_for_chair(request, workshop)
    if request.GET.get("format") == "csv":
        return csv_response(
            f"{ws.slug}-camera-ready.csv",
            selectors.status_export_rows(ws),
            header=selectors.STATUS_CSV_HEADER,
        )
    config = selectors.camera_ready_settings_get(ws)
    if request.method == "POST":
        settings_form = SettingsForm(request.POST)
        if settings_form.is_valid():
            services.camera_ready_settings_save(
                workshop=ws,
                licence=settings_form.cleaned_data["licence"],
                agreement_text=settings_form.cleaned_data["agreement_text"],
            )
            messages.success(request, "The camera-ready settings are saved.")
            return redirect("cameraready:manage", workshop=ws.slug)
        status = 400
    else:
        settings_form = SettingsForm(
            initial={"licence": config.licence, "agreement_text": config.agreement_text}
        )
        status = 200
    rows = selectors.camera_ready_status(ws)
    licence, _text, version = selectors.agreement_text(ws)
    return render(
        request,
        "cameraready/manage.html",
        {
            "workshop": ws,
            "rows": rows,
            "deadline": selectors.edition_deadline(ws),
            "settings_form": settings_form,
            "licence_label": selectors.licence_label(licence),
            "agreement_version": version,
            "counts": _counts(rows),
        },
        status=status,
    )


def _counts(rows) -> dict:
    return {
        "papers": len(rows),
        "pdf": sum(r.pdf_checked for r in rows),
        "metadata": sum(r.metadata_confirmed for r in rows),
        "copyright": sum(r.copyright_signed for r in rows),
        "complete": sum(r.complete for r in rows),
        "incomplete": sum(not r.complete for r in rows),
    }


@login_required
def remind(request, workshop):
    """GET: the confirmation page (counts of what is missing); POST: one mail per incomplete paper."""
    ws = _workshop_for_chair(request, workshop)
    if request.method == "POST":
        form = RemindForm(request.POST)
        if form.is_valid():
            count = services.chair_remind(
                workshop=ws, user=request.user, shown_at=form.cleaned_data["shown_at"]
            )
            messages.success(request, f"Reminded the authors of {count} paper{'s' if count != 1 else ''}.")
        else:
            messages.error(request, "The confirmation form was incomplete; nothing was sent.")
        return redirect("cameraready:manage", workshop=ws.slug)
    rows = selectors.camera_ready_status(ws)
    incomplete = [r for r in rows if not r.complete]
    return render(
        request,
        "cameraready/remind.html",
        {
            "workshop": ws,
            "incomplete": incomplete,
            "counts": _counts(rows),
            "missing_pdf": sum(not r.pdf_checked for r in incomplete),
            "missing_metadata": sum(not r.metadata_confirmed for r in incomplete),
            "missing_copyright": sum(not r.copyright_signed for r in incomplete),
            "form": RemindForm(initial={"shown_at": timezone.now()}),
        },
    )
