"""Paper pages of one edition: submit, my papers, a paper with its versions, check report and change
log, edit, withdraw, file downloads, and the chairs' list (filters, counts, CSV, extensions).

Thin: permissions come from conference/rules.py, reads from selectors, writes from services. Upload
views refuse an oversized request from its Content-Length before reading the body, and stop reading
a file that grows past its limit (`common.uploads`).
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.csv_export import csv_response
from common.uploads import upload_limited, upload_refused
from config.middleware import arrived_at

from . import selectors, services
from .forms import AuthorFormSet, ExtensionForm, PaperFilterForm, PaperForm, WithdrawForm
from .models import Paper


def _upload_limits(request, *args, **kwargs) -> dict[str, int]:
    return {"pdf": settings.PAPER_PDF_MAX_BYTES, "supplementary": settings.PAPER_SUPPLEMENTARY_MAX_BYTES}


UPLOAD_LABELS = {"pdf": "the PDF", "supplementary": "the supplementary material"}


def _refuse_submit(request, message, workshop):
    messages.error(request, message)
    return redirect("conference:paper-submit", workshop=workshop)


def _refuse_edit(request, message, workshop, number):
    messages.error(request, message)
    return redirect("conference:paper-edit", workshop=workshop, number=number)


def _paper_for(request, workshop: str, number: int, perm: str) -> Paper:
    ws = selectors.workshop_get(slug=workshop, user=request.user)
    paper = selectors.paper_get(workshop=ws, number=number)
    if not request.user.has_perm(perm, paper):
        if request.user.has_perm("conference.paper_see", paper):
            raise PermissionDenied("You may not do this with this paper.")
        raise Http404("No such paper.")  # nobody learns which numbers exist
    return paper


# --- Authors ----------------------------------------------------------------------------------------


@login_required
def my_papers(request, workshop):
    ws = selectors.workshop_get(slug=workshop, user=request.user)
    papers = selectors.paper_list_for_author(user=request.user, workshop=ws)
    windows = selectors.submission_windows(workshop=ws)
    now = timezone.now()
    return render(
        request,
        "conference/papers/mine.html",
        {
            "workshop": ws,
            "papers": papers,
            "windows": windows,
            "is_chair": request.user.has_perm("conference.manage_workshop", ws),
            "can_submit": any(w.is_open(now) for w in windows.values()),
        },
    )


@upload_limited(_upload_limits, _refuse_submit, UPLOAD_LABELS)
@login_required
def paper_submit(request, workshop):
    now = arrived_at(request)  # the deadline is judged at the instant the request reached the site
    ws = selectors.workshop_get(slug=workshop, user=request.user)
    windows = selectors.submission_windows(workshop=ws)
    emails = selectors.user_confirmed_emails(user=request.user)
    form = PaperForm(workshop=ws, initial=_submit_initial(request))
    authors = AuthorFormSet(prefix="authors", initial=[_author_row(request.user)], user_emails=emails)
    if request.method == "POST":
        request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
        if upload_refused(request):
            messages.error(request, upload_refused(request))
            return redirect("conference:paper-submit", workshop=ws.slug)
        form = PaperForm(request.POST, request.FILES, workshop=ws)
        authors = AuthorFormSet(request.POST, prefix="authors", user_emails=emails)
        if form.is_valid() & authors.is_valid():
            data = form.cleaned_data
            try:
                paper, created = services.paper_create(
                    workshop=ws,
                    submitter=request.user,
                    pdf=data["pdf"],
                    submission_token=data.get("submission_token"),
                    now=now,
                    **_paper_fields(form, authors),
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                if created:
                    messages.success(
                        request, f"Paper #{paper.number} was received; its PDF is being checked."
                    )
                else:
                    messages.info(request, f"This form was already sent: it created paper #{paper.number}.")
                return redirect(paper.get_absolute_url())
    return render(
        request,
        "conference/papers/form.html",
        {
            "workshop": ws,
            "form": form,
            "authors": authors,
            "windows": windows,
            "editing": False,
            "now": now,
            "open": {k: w.is_open(now) for k, w in windows.items()},
        },
    )


def _author_row(user) -> dict:
    """The submitting person as the first author row of a new paper."""
    profile = getattr(user, "profile", None)
    return {
        "name": profile.full_name if profile else user.get_full_name(),
        "email": user.email,
        "affiliation": profile.affiliation if profile else "",
    }


def _submit_initial(request) -> dict:
    """A new form's one-time token; a ranked team arrives from the final leaderboard with
    ?kind=challenge&challenge=<id>: the form comes pre-linked to it."""
    initial = {"submission_token": uuid.uuid4()}
    if request.GET.get("kind") == Paper.Kind.CHALLENGE:
        initial["kind"] = Paper.Kind.CHALLENGE
        if request.GET.get("challenge", "").isdecimal():
            initial["challenge"] = int(request.GET["challenge"])
    return initial


def _paper_fields(form, authors) -> dict:
    """What the submit and edit forms hand to the services, besides the PDF."""
    data = form.cleaned_data
    return {
        "title": data["title"],
        "abstract": data["abstract"],
        "topics": list(data["topics"]),
        "kind": data["kind"],
        "challenge": data.get("challenge"),
        "dual_submission": data.get("dual_submission", False),
        "dual_submission_id": data.get("dual_submission_id", ""),
        "authors": authors.authors(),
        "supplementary": data.get("supplementary"),
    }


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def paper_detail(request, workshop, number):
    paper = _paper_for(request, workshop, number, "conference.paper_see")
    versions = selectors.paper_versions(paper=paper)
    return render(
        request,
        "conference/papers/detail.html",
        {
            "workshop": paper.workshop,
            "paper": paper,
            "versions": versions,
            "latest": versions[0] if versions else None,
            "current": selectors.paper_current_version(paper=paper),
            "authors": selectors.paper_authors(paper=paper),
            "changes": selectors.paper_changes(paper=paper, limit=100),
            "window": selectors.submission_window(workshop=paper.workshop, kind=paper.kind, paper=paper),
            "editable": selectors.paper_is_editable(paper=paper),
            "can_edit": request.user.has_perm("conference.paper_edit", paper),
            "can_withdraw": request.user.has_perm("conference.paper_withdraw", paper)
            and paper.status in (Paper.Status.DRAFT, Paper.Status.SUBMITTED),
            "is_chair": request.user.has_perm("conference.paper_extend", paper),
            "extension_form": ExtensionForm(workshop=paper.workshop),
            **_camera_ready_link(request, paper),
        },
    )


def _camera_ready_link(request, paper: Paper) -> dict:
    """An accepted paper's camera-ready task (conference.cameraready), for its authors and chairs."""
    if not request.user.has_perm("cameraready.see", paper):
        return {}
    from django.urls import reverse

    from .cameraready.selectors import camera_ready_deadline

    return {
        "camera_ready_url": reverse(
            "cameraready:paper", kwargs={"workshop": paper.workshop.slug, "number": paper.number}
        ),
        "camera_ready_deadline": camera_ready_deadline(paper),
    }


@login_required
def paper_check_status(request, workshop, number):
    """The htmx fragment of the newest version's check (polled every second while pending)."""
    paper = _paper_for(request, workshop, number, "conference.paper_see")
    return render(
        request,
        "conference/papers/_check.html",
        {
            "workshop": paper.workshop,
            "paper": paper,
            "latest": selectors.paper_latest_version(paper=paper),
            "oob_status": bool(request.htmx),
        },
    )


@upload_limited(_upload_limits, _refuse_edit, UPLOAD_LABELS)
@login_required
def paper_edit(request, workshop, number):
    now = arrived_at(request)
    paper = _paper_for(request, workshop, number, "conference.paper_edit")
    ws = paper.workshop
    if not selectors.paper_is_editable(paper=paper, now=now):
        messages.error(
            request,
            "This paper can no longer be edited (the deadline has passed or it was "
            "withdrawn). Only withdrawal is possible.",
        )
        return redirect(paper.get_absolute_url())
    initial, author_initial = selectors.paper_edit_initial(paper=paper)
    emails = selectors.user_confirmed_emails(user=request.user)
    form = PaperForm(workshop=ws, editing=True, initial=initial)
    authors = AuthorFormSet(prefix="authors", initial=author_initial, user_emails=emails)
    if request.method == "POST":
        request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
        if upload_refused(request):
            messages.error(request, upload_refused(request))
            return redirect("conference:paper-edit", workshop=ws.slug, number=paper.number)
        form = PaperForm(request.POST, request.FILES, workshop=ws, editing=True, initial=initial)
        authors = AuthorFormSet(request.POST, prefix="authors", initial=author_initial, user_emails=emails)
        if form.is_valid() & authors.is_valid():
            data = form.cleaned_data
            try:
                services.paper_update(
                    paper=paper,
                    user=request.user,
                    expected_revision=data.get("revision"),
                    pdf=data.get("pdf"),
                    now=now,
                    **_paper_fields(form, authors),
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request,
                    "Your changes were saved."
                    + (" The new PDF is being checked." if data.get("pdf") else ""),
                )
                return redirect(paper.get_absolute_url())
    return render(
        request,
        "conference/papers/form.html",
        {
            "workshop": ws,
            "paper": paper,
            "form": form,
            "authors": authors,
            "editing": True,
            "now": now,
            "window": selectors.submission_window(workshop=ws, kind=paper.kind, paper=paper),
        },
    )


@login_required
def paper_withdraw(request, workshop, number):
    paper = _paper_for(request, workshop, number, "conference.paper_withdraw")
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.paper_withdraw(paper=paper, user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Paper #{paper.number} was withdrawn.")
        return redirect(paper.get_absolute_url())
    return render(
        request, "conference/papers/withdraw.html", {"workshop": paper.workshop, "paper": paper, "form": form}
    )


@login_required
def paper_file(request, workshop, number, version, which):
    """A stored file of one version, for the paper's authors and chairs (never served directly)."""
    paper = _paper_for(request, workshop, number, "conference.paper_see")
    found = selectors.paper_version_get(paper=paper, number=version)
    field, name = {
        "pdf": (found.original, f"paper-{paper.number}-v{found.number}.pdf"),
        "review": (found.review_copy, selectors.paper_review_file_name(paper=paper)),
        "supplementary": (found.supplementary, None),
    }[which]
    if not field:
        raise Http404("This version has no such file.")
    name = name or f"paper-{paper.number}-supplementary.{field.name.rsplit('.', 1)[-1]}"
    disposition = "attachment" if which == "supplementary" else "inline"
    if settings.PRIVATE_ACCEL_REDIRECT:  # the front server streams it after this permission check
        response = HttpResponse(
            content_type="application/pdf" if name.endswith(".pdf") else "application/zip"
        )
        response["X-Accel-Redirect"] = settings.PRIVATE_ACCEL_REDIRECT.rstrip("/") + "/" + field.name
        response["Content-Disposition"] = f'{disposition}; filename="{name}"'
        return response
    return FileResponse(field.open("rb"), as_attachment=disposition == "attachment", filename=name)


# --- Chairs -----------------------------------------------------------------------------------------


@login_required
def papers_manage(request, workshop):
    ws = selectors.workshop_get(slug=workshop, user=request.user)
    if not request.user.has_perm("conference.manage_workshop", ws):
        raise PermissionDenied("Only the chairs of this edition see all submissions.")
    filters = PaperFilterForm(request.GET or None, workshop=ws)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    papers = selectors.paper_list_for_chairs(
        workshop=ws,
        q=criteria.get("q", "").strip(),
        kind=criteria.get("kind", ""),
        status=criteria.get("status", ""),
        topic=criteria.get("topic"),
        check=criteria.get("check", ""),
    )
    if request.GET.get("format") == "csv":
        rows = selectors.paper_export_rows(papers=papers)
        return csv_response(f"{ws.slug}-papers.csv", rows, header=selectors.PAPER_EXPORT_HEADER)
    return render(
        request,
        "conference/papers/manage.html",
        {
            "workshop": ws,
            "papers": papers,
            "filters": filters,
            "topic_counts": selectors.paper_topic_counts(workshop=ws),
            "status_counts": selectors.paper_status_counts(workshop=ws),
            "query": request.GET.urlencode(),
        },
    )


@require_POST
@login_required
def paper_extend(request, workshop, number):
    paper = _paper_for(request, workshop, number, "conference.paper_extend")
    form = ExtensionForm(request.POST, workshop=paper.workshop)
    if form.is_valid():
        try:
            services.paper_extend_deadline(paper=paper, user=request.user, until=form.cleaned_data["until"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"The deadline of paper #{paper.number} was extended.")
    else:
        messages.error(request, "Enter the date and time the extension ends.")
    return redirect(paper.get_absolute_url())
