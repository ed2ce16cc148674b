"""Views of reviewing, under /<workshop>/review/. Thin: every read goes through `selectors`, every
write through the services of `domain/` (and `assignment_services`), every object is checked with the
predicates of `rules`. A paper the user may not see answers 404 with a message that names nothing but
its number."""

from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.forms import add_refusal_to_messages
from conference.adapters import INVITATION_SESSION_KEY
from conference.models import Membership
from conference.selectors import (
    paper_current_version,
    paper_review_file,
    paper_review_file_name,
    workshop_get,
)

from . import assignment_selectors, assignment_services, selectors
from .domain.assignments import assignment_add, assignment_remove
from .domain.bids import bid_set
from .domain.committee import (
    invitation_create,
    invitation_parse,
    invitation_respond,
    invitation_revoke,
    invitations_link_user,
    reviewer_profile_get_or_create,
    reviewer_profile_update,
)
from .domain.conflicts import conflict_decide as conflict_decide_service
from .domain.conflicts import conflicts_detect, conflicts_set_by_author
from .domain.decisions import decision_set, decisions_release
from .domain.discussion import comment_post, meta_review_save
from .domain.review_settings import review_settings_update
from .domain.reviews import review_save, reviewers_remind
from .domain.supplementary import supplementary_for_reviewers
from .forms import InviteForm, ReleaseForm, ReviewerProfileForm, ReviewForm, SettingsForm
from .models import Bid, Conflict, Decision, Invitation


def _workshop(request, slug):
    return workshop_get(slug=slug, user=request.user)


def _chair(request, slug):
    workshop = _workshop(request, slug)
    if not request.user.has_perm("reviewing.chair_workshop", workshop):
        raise PermissionDenied("Only the chairs of this edition can open this page.")
    return workshop


def _paper(workshop, number, user, perm):
    paper = selectors.paper_by_number(workshop=workshop, number=number)
    if paper is None or not user.has_perm(perm, paper):
        raise Http404(f"No paper #{number} for you to see here.")
    return paper


# --- Home, invitations, profile ------------------------------------------------------------------


@login_required
def home(request, workshop):
    ws = _workshop(request, workshop)
    invitations_link_user(user=request.user)
    is_chair = request.user.has_perm("reviewing.chair_workshop", ws)
    is_reviewer = request.user.has_perm("reviewing.bid_in_workshop", ws)
    authored = selectors.papers_authored(workshop=ws, user=request.user)
    config = selectors.review_settings_get(workshop=ws)
    return render(
        request,
        "reviewing/home.html",
        {
            "workshop": ws,
            "is_chair": is_chair,
            "is_reviewer": is_reviewer,
            "assignments": selectors.assignments_of_reviewer(workshop=ws, user=request.user)
            if is_reviewer
            else [],
            "authored": [(p, selectors.released_decision(paper=p)) for p in authored],
            "config": config,
            **(_chair_progress(ws, request.user, config) if is_chair else {}),
        },
    )


def _chair_progress(ws, user, config) -> dict:
    now = timezone.now()
    papers, reviewers = selectors.review_progress(workshop=ws, user=user, now=now)
    return {
        "progress_papers": papers,
        "progress_reviewers": reviewers,
        "overdue": config.review_deadline is not None and now > config.review_deadline,
        "late_reviewers": sum(1 for _, p in reviewers if p.late),
        "shown_at": now.isoformat(),
    }


@login_required
@require_POST
def remind(request, workshop):
    """ "Remind" on the chair's home: one reviewer (`user`) or every late one; once per click."""
    ws = _chair(request, workshop)
    remind_from_post(request, ws, late_only_when_named=False)
    return redirect("reviewing:home", workshop=ws.slug)


def remind_from_post(request, ws, *, late_only_when_named: bool) -> None:
    """The "Remind" button's POST, shared by the chair's home and the console's dashboard: the reviewer
    named by `user` (only when late if `late_only_when_named`) or every late one, not those reminded
    since the page was shown (`shown_at`); the outcome goes into the messages."""
    try:
        shown_at = datetime.fromisoformat(request.POST.get("shown_at", ""))
    except ValueError:
        shown_at = None
    if shown_at is None or timezone.is_naive(shown_at):
        shown_at = timezone.now()  # a form not from the page: no "since", everyone pending is reminded
    user_id = request.POST.get("user", "")
    try:
        count = reviewers_remind(
            workshop=ws,
            chair=request.user,
            user_ids=[int(user_id)] if user_id.isdecimal() else None,
            late_only=late_only_when_named or not user_id.isdecimal(),
            shown_at=shown_at,
        )
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
    else:
        if count:
            messages.success(request, f"Reminder sent to {count} reviewer(s).")
        else:
            messages.info(
                request, "Nobody to remind: already reminded since this page was shown, or nothing pending."
            )


def invitation(request, workshop, token):
    """The answer page of an invitation link. Accepting needs an account with the invited address
    verified; a visitor without one is sent to sign up (address filled in) or to log in, and the
    acceptance completes when that account logs in or confirms the address (`conference.adapters`)."""
    ws = _workshop(request, workshop)
    invite = selectors.invitation_get(workshop=ws, token=token)
    if invite is None:
        raise Http404("No such invitation.")
    if request.method == "POST":
        accept = request.POST.get("answer") == "accept"
        if accept and not request.user.is_authenticated and invite.state == Invitation.State.PENDING:
            request.session[INVITATION_SESSION_KEY] = invite.token
            messages.info(
                request,
                f"To accept, create an account with {invite.email} (or log in with it): "
                "you will join the committee as soon as the address is confirmed.",
            )
            return redirect("reviewing:invitation", workshop=ws.slug, token=token)
        try:
            invitation_respond(invitation=invite, accept=accept, user=request.user)
        except ValidationError as exc:
            add_refusal_to_messages(request, exc)
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            if accept:
                messages.success(request, "Welcome to the committee: your reviewing area is below.")
                return redirect("reviewing:home", workshop=ws.slug)
            messages.success(request, "Thank you: you declined the invitation.")
        return redirect("reviewing:invitation", workshop=ws.slug, token=token)
    home = reverse("reviewing:home", kwargs={"workshop": ws.slug})
    here = reverse("reviewing:invitation", kwargs={"workshop": ws.slug, "token": token})
    return render(
        request,
        "reviewing/invitation.html",
        {
            "workshop": ws,
            "invitation": invite,
            "started": request.session.get(INVITATION_SESSION_KEY) == invite.token,
            "signup_url": reverse("account_signup") + "?" + urlencode({"email": invite.email, "next": home}),
            "login_url": reverse("account_login") + "?" + urlencode({"next": here}),
            "mine": request.user.is_authenticated and invite.user_id == request.user.id,
            "address_ok": selectors.user_has_verified_email(user=request.user, email=invite.email),
        },
    )


@login_required
def profile(request, workshop):
    ws = _workshop(request, workshop)
    if not request.user.has_perm("reviewing.bid_in_workshop", ws):
        raise PermissionDenied("Only committee members have a reviewer profile.")
    rp = reviewer_profile_get_or_create(workshop=ws, user=request.user)
    initial = {
        "topics": rp.topics.all(),
        "expertise": rp.expertise,
        "max_load": rp.max_load,
        "conflict_institutions": "\n".join(rp.conflict_institutions),
        "conflict_domains": "\n".join(rp.conflict_domains),
        "conflict_emails": "\n".join(rp.conflict_emails),
    }
    form = ReviewerProfileForm(request.POST or None, workshop=ws, initial=initial)
    if request.method == "POST" and form.is_valid():
        reviewer_profile_update(profile=rp, **form.cleaned_data)
        messages.success(request, "Your reviewer profile was saved.")
        return redirect("reviewing:profile", workshop=ws.slug)
    return render(
        request,
        "reviewing/profile.html",
        {
            "workshop": ws,
            "form": form,
            "default_load": selectors.review_settings_get(workshop=ws).default_max_load,
        },
    )


# --- Committee (chair) ---------------------------------------------------------------------------


@login_required
def committee(request, workshop):
    ws = _chair(request, workshop)
    if request.method == "POST" and request.POST.get("action") == "revoke":
        invite = selectors.invitation_get(workshop=ws, pk=request.POST.get("invitation", ""))
        if invite is None:
            raise Http404("No such invitation.")
        try:
            invitation_revoke(invitation=invite, by=request.user)
        except ValidationError as exc:
            add_refusal_to_messages(request, exc)
        else:
            messages.success(request, f"The invitation of {invite.email} was revoked: its link is dead.")
        return redirect("reviewing:committee", workshop=ws.slug)
    form = InviteForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        people, errors = invitation_parse(text=form.cleaned_data["people"])
        for error in errors:
            messages.error(request, error)
        if request.POST.get("action") == "send" and not errors:
            for email, name in people:
                invitation_create(
                    workshop=ws,
                    email=email,
                    name=name,
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                )
            messages.success(request, f"{len(people)} invitation(s) sent.")
            return redirect("reviewing:committee", workshop=ws.slug)
        numbers = selectors.paper_numbers(workshop=ws)
        preview = [
            (
                email,
                name,
                [
                    (numbers[f.paper], f.source, f.evidence)
                    for f in selectors.conflicts_preview_for_email(workshop=ws, email=email)
                ],
            )
            for email, name in people
        ]
    members = selectors.membership_list(workshop=ws)
    return render(
        request,
        "reviewing/committee.html",
        {
            "workshop": ws,
            "form": form,
            "preview": preview,
            "members": members,
            "invitations": selectors.invitation_list(workshop=ws),
        },
    )


@login_required
def conflicts(request, workshop):
    ws = _chair(request, workshop)
    if request.method == "POST":
        created = conflicts_detect(workshop=ws)
        messages.success(request, f"Detection found {created} new possible conflict(s).")
        return redirect("reviewing:conflicts", workshop=ws.slug)
    state = request.GET.get("state", "suggested")
    rows = selectors.conflict_list_for_chair(workshop=ws, user=request.user, state=state)
    return render(
        request,
        "reviewing/conflicts.html",
        {"workshop": ws, "conflicts": rows, "state": state, "states": Conflict.State.choices},
    )


@login_required
@require_POST
def conflict_decide(request, workshop, pk):
    ws = _chair(request, workshop)
    conflict = selectors.conflict_get(workshop=ws, pk=pk)
    if conflict is None or selectors.is_conflicted(paper=conflict.paper, user=request.user):
        raise Http404("No such conflict.")
    try:
        conflict_decide_service(
            conflict=conflict,
            confirm=request.POST.get("decision") == "confirm",
            reason=request.POST.get("reason", ""),
            user=request.user,
        )
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
    else:
        messages.success(
            request, f"Conflict on paper #{conflict.paper.number} {conflict.get_state_display().lower()}."
        )
    return redirect(f"{request.path.rsplit('/', 2)[0]}/?state={request.POST.get('back', 'suggested')}")


@login_required
def review_settings(request, workshop):
    ws = _chair(request, workshop)
    config = selectors.review_settings_get(workshop=ws)
    with timezone.override(ws.zone):
        form = SettingsForm(request.POST or None, instance=config)
        if request.method == "POST" and form.is_valid():
            review_settings_update(config=config, fields=form.cleaned_data)
            messages.success(request, "Review settings saved.")
            return redirect("reviewing:settings", workshop=ws.slug)
        return render(request, "reviewing/settings.html", {"workshop": ws, "form": form})


# --- Bidding -------------------------------------------------------------------------------------


@login_required
def bids(request, workshop):
    ws = _workshop(request, workshop)
    if not request.user.has_perm("reviewing.bid_in_workshop", ws):
        raise PermissionDenied("Only reviewers of this edition can bid.")
    topic = request.GET.get("topic")
    topic = int(topic) if topic and topic.isdecimal() else None
    query = request.GET.get("q", "").strip()
    papers = selectors.papers_for_bidding(workshop=ws, user=request.user, topic=topic, query=query)
    mine = selectors.bid_values_of_user(user=request.user, papers=papers)
    return render(
        request,
        "reviewing/bids.html",
        {
            "workshop": ws,
            "rows": [(p, mine.get(p.id, "")) for p in papers],
            "topics": ws.topics.all(),
            "topic": topic,
            "q": query,
            "choices": Bid.Value.choices,
            "bidding_open": selectors.review_settings_get(workshop=ws).bidding_open,
        },
    )


@login_required
@require_POST
def bid(request, workshop, number):
    ws = _workshop(request, workshop)
    if not request.user.has_perm("reviewing.bid_in_workshop", ws):
        raise PermissionDenied("Only reviewers of this edition can bid.")
    paper = selectors.paper_by_number(workshop=ws, number=number)
    if paper is None or paper.id not in set(
        selectors.papers_for_bidding(workshop=ws, user=request.user).values_list("id", flat=True)
    ):
        raise Http404(f"No paper #{number} to bid on.")
    try:
        value = bid_set(paper=paper, user=request.user, value=request.POST.get("value", ""))
        text = f"Saved: {value.get_value_display()}" if value else "Bid cleared"
    except ValidationError as exc:
        text = " ".join(exc.messages)
    if request.htmx:
        return HttpResponse(f'<span class="badge ok" role="status">{text}</span>')
    messages.info(request, f"Paper #{number}: {text}.")
    return redirect("reviewing:bids", workshop=ws.slug)


# --- Assignment (chair) --------------------------------------------------------------------------


def _assignment_action(request, ws, config):
    """One POSTed action of the assignment page; returns the response (a redirect)."""
    action = request.POST.get("action")
    try:
        if action == "run":  # computed by a Celery task; its progress page follows it
            run = assignment_services.assignment_run_start(
                workshop=ws,
                user=request.user,
                options=assignment_services.run_options_clean(config=config, data=request.POST),
            )
            return redirect("reviewing:assignment-run", workshop=ws.slug, pk=run.pk)
        if action == "loads":  # per-reviewer minimum/maximum; a refused text comes back to edit
            text = request.POST.get("loads", "")
            request.session["assignment_loads_text"] = text
            count = assignment_services.reviewer_loads_set(workshop=ws, text=text)
            request.session.pop("assignment_loads_text", None)
            messages.success(request, f"Loads saved: {count} reviewer(s) with their own minimum or maximum.")
        elif action == "add":
            _assignment_add(request, ws)
        elif action == "remove":
            row = selectors.assignment_get(workshop=ws, pk=request.POST.get("assignment", ""))
            if row is None or selectors.is_conflicted(paper=row.paper, user=request.user):
                raise Http404("No such assignment.")
            assignment_remove(assignment=row)
            messages.success(request, f"Reviewer removed from paper #{row.paper.number}.")
        elif action == "commit":  # through the confirmation page, with counts and warnings
            return redirect("reviewing:assignment-commit", workshop=ws.slug)
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
    return redirect("reviewing:assignment", workshop=ws.slug)


def _assignment_add(request, ws) -> None:
    paper = selectors.paper_by_number(workshop=ws, number=request.POST.get("paper", ""))
    if paper is None:
        raise Http404("No such paper.")
    if selectors.is_conflicted(paper=paper, user=request.user):
        raise ValidationError("You have a conflict with this paper: another chair assigns it.")
    user = selectors.user_get(user_id=request.POST.get("user", ""))
    if user is None:
        raise Http404("No such reviewer.")
    assignment_add(paper=paper, user=user)
    messages.success(request, f"Reviewer added to paper #{paper.number} (proposed).")


@login_required
def assignment(request, workshop):
    ws = _chair(request, workshop)
    config = selectors.review_settings_get(workshop=ws)
    if request.method == "POST":
        return _assignment_action(request, ws, config)
    # A chair never sees who reviews a paper they are conflicted with (their own, say).
    all_papers = selectors.papers_to_assign(workshop=ws, user=request.user)
    page_no, per_page = request.GET.get("page", "1"), 200
    page_no = int(page_no) if page_no.isdecimal() and int(page_no) > 0 else 1
    n_papers = all_papers.count()
    papers = list(all_papers[(page_no - 1) * per_page : page_no * per_page])
    by_paper = selectors.assignments_by_paper(papers=papers)
    return render(
        request,
        "reviewing/assignment.html",
        {
            "workshop": ws,
            "config": config,
            "run": config.last_run,
            "latest": assignment_selectors.assignment_run_latest(workshop=ws),
            "loads_text": request.session.pop("assignment_loads_text", None)
            or assignment_selectors.reviewer_loads_text(workshop=ws),
            "preview": assignment_selectors.assignment_preview(workshop=ws),
            "page_no": page_no,
            "pages": range(1, (n_papers + per_page - 1) // per_page + 1),
            "papers": [(p, by_paper[p.id]) for p in papers],
            "reviewers": selectors.committee_users(workshop=ws),
        },
    )


# --- A paper under review ------------------------------------------------------------------------


@login_required
def paper(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.view_paper")
    mine = selectors.assignment_for(paper=paper, user=request.user)
    can_read = request.user.has_perm("reviewing.read_reviews", paper)
    is_chair = request.user.has_perm("reviewing.decide", paper)
    return render(
        request,
        "reviewing/paper.html",
        {
            "workshop": ws,
            "paper": paper,
            "mine": mine,
            "is_chair": is_chair,
            "can_read": can_read,
            "my_review": getattr(mine, "review", None) if mine and hasattr(mine, "review") else None,
            "reviews": selectors.submitted_reviews(paper=paper) if can_read else [],
            "comments": selectors.comment_list(paper=paper) if can_read else [],
            "meta": selectors.meta_review_get(paper=paper) if can_read else None,
            "has_pdf": paper_review_file(paper=paper) is not None,
            "has_supplementary": bool(getattr(paper_current_version(paper=paper), "supplementary", None)),
            "assignments": selectors.assignments_committed_of_paper(paper=paper) if is_chair else [],
            "decision": selectors.decision_get(paper=paper) if is_chair else None,
        },
    )


@login_required
def paper_pdf(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.view_paper")
    file = paper_review_file(paper=paper)
    if file is None:
        raise Http404("The review copy of this paper is not ready.")
    name = paper_review_file_name(paper=paper)
    if settings.PRIVATE_ACCEL_REDIRECT:
        response = HttpResponse(content_type="application/pdf")
        response["X-Accel-Redirect"] = settings.PRIVATE_ACCEL_REDIRECT.rstrip("/") + "/" + file.name
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response
    return FileResponse(file.open("rb"), content_type="application/pdf", as_attachment=False, filename=name)


@login_required
def paper_supplementary(request, workshop, number):
    """The supplementary material, anonymised in the sandbox (`domain.supplementary`)
    and served under a neutral name, to the paper's reviewers and non-conflicted chairs."""
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.view_supplementary")
    try:
        copy = supplementary_for_reviewers(paper=paper)
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
        return redirect("reviewing:paper", workshop=ws.slug, number=number)
    if copy is None:
        raise Http404("This paper has no supplementary material.")
    if copy.error:
        messages.error(request, f"The supplementary material cannot be shown to reviewers: {copy.error}")
        return redirect("reviewing:paper", workshop=ws.slug, number=number)
    kind = "zip" if copy.file.name.endswith(".zip") else "pdf"
    name = f"paper-{paper.number}-supplementary.{kind}"
    content_type = "application/zip" if kind == "zip" else "application/pdf"
    if settings.PRIVATE_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.PRIVATE_ACCEL_REDIRECT.rstrip("/") + "/" + copy.file.name
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(copy.file.open("rb"), content_type=content_type, as_attachment=True, filename=name)


@login_required
def review(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.write_review")
    mine = selectors.assignment_for(paper=paper, user=request.user)
    instance = selectors.review_get(assignment=mine)
    form = ReviewForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            review_save(assignment=mine, data=form.cleaned_data, submit=submit)
        except ValidationError as exc:
            add_refusal_to_messages(request, exc)
            return redirect("reviewing:review", workshop=ws.slug, number=number)
        messages.success(request, "Your review was submitted." if submit else "Draft saved.")
        return redirect("reviewing:paper" if submit else "reviewing:review", workshop=ws.slug, number=number)
    config = selectors.review_settings_get(workshop=ws)
    return render(
        request,
        "reviewing/review.html",
        {
            "workshop": ws,
            "paper": paper,
            "form": form,
            "mine": mine,
            "review": instance,
            "deadline": config.review_deadline,
        },
    )


@login_required
def discussion(request, workshop, number):
    """The discussion thread alone, polled by htmx so new messages appear without reloading."""
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.discuss")
    return render(request, "reviewing/_discussion.html", {"comments": selectors.comment_list(paper=paper)})


@login_required
@require_POST
def discuss(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.discuss")
    as_chair = selectors.assignment_for(paper=paper, user=request.user) is None
    try:
        comment_post(paper=paper, user=request.user, text=request.POST.get("text", ""), as_chair=as_chair)
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
    return redirect("reviewing:paper", workshop=ws.slug, number=number)


@login_required
@require_POST
def meta_review(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.decide")
    meta_review_save(paper=paper, user=request.user, text=request.POST.get("text", ""))
    if request.POST.get("decision") in Decision.Outcome.values:
        try:
            decision_set(papers=[paper], outcome=request.POST["decision"], user=request.user)
        except ValidationError as exc:
            add_refusal_to_messages(request, exc)
    messages.success(request, "Meta-review saved.")
    return redirect("reviewing:paper", workshop=ws.slug, number=number)


# --- Decisions and release (chair) ---------------------------------------------------------------


@login_required
def decisions(request, workshop):
    ws = _chair(request, workshop)
    if request.method == "POST":
        numbers = [int(n) for n in request.POST.getlist("paper") if n.isdecimal()]
        visible = {
            s.paper.number: s.paper for s in selectors.decision_dashboard(workshop=ws, user=request.user)
        }
        chosen = [visible[n] for n in numbers if n in visible]
        if not chosen:
            messages.error(request, "Select at least one paper.")
        else:
            try:
                count = decision_set(
                    papers=chosen, outcome=request.POST.get("outcome", ""), user=request.user
                )
                messages.success(request, f"Decision recorded for {count} paper(s).")
            except ValidationError as exc:
                add_refusal_to_messages(request, exc)
        return redirect(f"{request.path}?sort={request.GET.get('sort', 'mean')}")
    sort = request.GET.get("sort", "mean")
    return render(
        request,
        "reviewing/decisions.html",
        {
            "workshop": ws,
            "rows": selectors.decision_dashboard(workshop=ws, sort=sort, user=request.user),
            "sort": sort,
            "sorts": list(selectors.SORT_KEYS),
        },
    )


def _release_previews(pending, subject: str, body: str) -> tuple[list, str]:
    """The e-mails of the first pending decisions as the authors would get them, or the template's
    error."""
    try:
        return [
            (d.paper, *selectors.notification_render(paper=d.paper, subject=subject, body=body))
            for d in pending[:3]
        ], ""
    except ValidationError as exc:
        return [], " ".join(exc.messages)


def _release_confirmed(request, ws, subject: str, body: str):
    """The second click: releases what the confirmation page showed; None when refused (the page is
    shown again with the error)."""
    try:
        count = decisions_release(
            workshop=ws,
            subject=subject,
            body=body,
            user=request.user,
            fingerprint=request.POST.get("fingerprint", ""),
        )
    except ValidationError as exc:
        add_refusal_to_messages(request, exc)
        return None
    messages.success(request, f"{count} decision(s) released; the authors are being notified.")
    return redirect("reviewing:release", workshop=ws.slug)


@login_required
def release(request, workshop):
    ws = _chair(request, workshop)
    config = selectors.review_settings_get(workshop=ws)
    form = ReleaseForm(
        request.POST or None,
        initial={"subject": config.notification_subject, "body": config.notification_body},
    )
    pending = selectors.decisions_pending(workshop=ws)
    subject = (
        form.data.get("subject", config.notification_subject)
        if form.is_bound
        else config.notification_subject
    )
    body = form.data.get("body", config.notification_body) if form.is_bound else config.notification_body
    previews, error = _release_previews(pending, subject, body)
    action = request.POST.get("action")
    if request.method == "POST" and form.is_valid() and action in ("send", "confirm") and not error:
        if action == "send":
            # Irreversible: show what would happen, with warnings, and ask once more.
            return render(
                request,
                "reviewing/release_confirm.html",
                {
                    "workshop": ws,
                    "summary": selectors.release_summary(workshop=ws, user=request.user),
                    "subject": subject,
                    "body": body,
                },
            )
        if (response := _release_confirmed(request, ws, subject, body)) is not None:
            return response
    return render(
        request,
        "reviewing/release.html",
        {
            "workshop": ws,
            "form": form,
            "pending": pending,
            "previews": previews,
            "error": error,
            "released": selectors.decisions_released_count(workshop=ws),
        },
    )


# --- Authors -------------------------------------------------------------------------------------


@login_required
def author_reviews(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.read_released_reviews")
    return render(
        request,
        "reviewing/author_reviews.html",
        {
            "workshop": ws,
            "paper": paper,
            "decision": selectors.released_decision(paper=paper),
            "reviews": selectors.submitted_reviews(paper=paper),
            "meta": selectors.meta_review_get(paper=paper),
        },
    )


@login_required
def author_conflicts(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.declare_conflicts")
    members = selectors.committee_users(workshop=ws, roles=list(Membership.Role.values))
    if request.method == "POST":
        ids = {int(x) for x in request.POST.getlist("member") if x.isdecimal()}
        conflicts_set_by_author(paper=paper, user_ids=ids)
        messages.success(request, "Your conflicts of interest were saved.")
        return redirect("reviewing:author-conflicts", workshop=ws.slug, number=number)
    declared = selectors.conflict_user_ids_declared_by_authors(paper=paper)
    return render(
        request,
        "reviewing/author_conflicts.html",
        {
            "workshop": ws,
            "paper": paper,
            "members": [(m, m.id in declared) for m in members],
        },
    )
