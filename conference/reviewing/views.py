"""Views of reviewing, under /<workshop>/review/. Thin: every read goes through `selectors`, every
write through `services`, every object is checked with the predicates of `rules`. A paper the user may
not see answers 404 with a message that names nothing but its number."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from conference.models import Membership, Paper
from conference.selectors import paper_review_file, paper_review_file_name, workshop_get

from . import selectors, services
from .forms import InviteForm, ReleaseForm, ReviewerProfileForm, ReviewForm, SettingsForm
from .models import Assignment, Bid, Comment, Conflict, Decision, Invitation, MetaReview, Review


def _workshop(request, slug):
    return workshop_get(slug=slug, user=request.user)


def _chair(request, slug):
    workshop = _workshop(request, slug)
    if not request.user.has_perm("reviewing.chair_workshop", workshop):
        raise PermissionDenied("Only the chairs of this edition can open this page.")
    return workshop


def _paper(workshop, number, user, perm):
    paper = Paper.objects.filter(workshop=workshop, number=number).first()
    if paper is None or not user.has_perm(perm, paper):
        raise Http404(f"No paper #{number} for you to see here.")
    return paper


def _errors(request, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)


# --- Home, invitations, profile ------------------------------------------------------------------


@login_required
def home(request, workshop):
    ws = _workshop(request, workshop)
    services.invitations_link_user(user=request.user)
    is_chair = request.user.has_perm("reviewing.chair_workshop", ws)
    is_reviewer = request.user.has_perm("reviewing.bid_in_workshop", ws)
    authored = Paper.objects.filter(
        id__in=selectors.authored_paper_ids(workshop=ws, user=request.user, confirmed_only=True)
    )
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
            "authored": [(p, selectors.released_decision(paper=p)) for p in authored.order_by("number")],
            "config": selectors.review_settings_get(workshop=ws),
        },
    )


def invitation(request, workshop, token):
    ws = _workshop(request, workshop)
    invite = get_object_or_404(Invitation, workshop=ws, token=token)
    if request.method == "POST":
        try:
            services.invitation_respond(
                invitation=invite,
                accept=request.POST.get("answer") == "accept",
                user=request.user if request.user.is_authenticated else None,
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, f"Thank you: you {invite.get_state_display().lower()} the invitation.")
        return redirect("reviewing:invitation", workshop=ws.slug, token=token)
    return render(request, "reviewing/invitation.html", {"workshop": ws, "invitation": invite})


@login_required
def profile(request, workshop):
    ws = _workshop(request, workshop)
    if not request.user.has_perm("reviewing.bid_in_workshop", ws):
        raise PermissionDenied("Only committee members have a reviewer profile.")
    rp = services.reviewer_profile_get(workshop=ws, user=request.user)
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
        services.reviewer_profile_update(profile=rp, **form.cleaned_data)
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
    form = InviteForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        people, errors = services.invitation_parse(text=form.cleaned_data["people"])
        for error in errors:
            messages.error(request, error)
        if request.POST.get("action") == "send" and not errors:
            for email, name in people:
                services.invitation_create(
                    workshop=ws,
                    email=email,
                    name=name,
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                )
            messages.success(request, f"{len(people)} invitation(s) sent.")
            return redirect("reviewing:committee", workshop=ws.slug)
        numbers = dict(Paper.objects.filter(workshop=ws).values_list("id", "number"))
        preview = [
            (
                email,
                name,
                [
                    (numbers[f.paper], f.source, f.evidence)
                    for f in services.conflicts_preview_for_email(workshop=ws, email=email)
                ],
            )
            for email, name in people
        ]
    members = (
        Membership.objects.filter(workshop=ws).select_related("user__profile").order_by("role", "user__email")
    )
    return render(
        request,
        "reviewing/committee.html",
        {
            "workshop": ws,
            "form": form,
            "preview": preview,
            "members": members,
            "invitations": Invitation.objects.filter(workshop=ws),
        },
    )


@login_required
def conflicts(request, workshop):
    ws = _chair(request, workshop)
    if request.method == "POST":
        created = services.conflicts_detect(workshop=ws)
        messages.success(request, f"Detection found {created} new possible conflict(s).")
        return redirect("reviewing:conflicts", workshop=ws.slug)
    state = request.GET.get("state", "suggested")
    rows = (
        Conflict.objects.filter(paper__workshop=ws)
        .select_related("paper", "user", "decided_by")
        .exclude(paper_id__in=selectors.conflicted_paper_ids(workshop=ws, user=request.user))
    )
    if state in Conflict.State.values:
        rows = rows.filter(state=state)
    return render(
        request,
        "reviewing/conflicts.html",
        {"workshop": ws, "conflicts": rows, "state": state, "states": Conflict.State.choices},
    )


@login_required
@require_POST
def conflict_decide(request, workshop, pk):
    ws = _chair(request, workshop)
    conflict = get_object_or_404(Conflict, pk=pk, paper__workshop=ws)
    if selectors.is_conflicted(paper=conflict.paper, user=request.user):
        raise Http404("No such conflict.")
    try:
        services.conflict_decide(
            conflict=conflict,
            confirm=request.POST.get("decision") == "confirm",
            reason=request.POST.get("reason", ""),
            user=request.user,
        )
    except ValidationError as exc:
        _errors(request, exc)
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
            form.save()
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
    topic = int(topic) if topic and topic.isdigit() else None
    query = request.GET.get("q", "").strip()
    papers = selectors.papers_for_bidding(workshop=ws, user=request.user, topic=topic, query=query)
    mine = dict(Bid.objects.filter(user=request.user, paper__in=papers).values_list("paper_id", "value"))
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
    paper = Paper.objects.filter(workshop=ws, number=number).first()
    if paper is None or paper.id not in set(
        selectors.papers_for_bidding(workshop=ws, user=request.user).values_list("id", flat=True)
    ):
        raise Http404(f"No paper #{number} to bid on.")
    try:
        value = services.bid_set(paper=paper, user=request.user, value=request.POST.get("value", ""))
        text = f"Saved: {value.get_value_display()}" if value else "Bid cleared"
    except ValidationError as exc:
        text = " ".join(exc.messages)
    if request.htmx:
        return HttpResponse(f'<span class="badge ok" role="status">{text}</span>')
    messages.info(request, f"Paper #{number}: {text}.")
    return redirect("reviewing:bids", workshop=ws.slug)


# --- Assignment (chair) --------------------------------------------------------------------------


@login_required
def assignment(request, workshop):
    ws = _chair(request, workshop)
    config = selectors.review_settings_get(workshop=ws)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "run":
                k = request.POST.get("k", "").strip()
                summary = services.assignment_run(workshop=ws, k=int(k) if k.isdigit() else None)
                (messages.success if summary["feasible"] else messages.warning)(
                    request,
                    f"{summary['new_pairs']} new pair(s) proposed, {summary['kept_pairs']} committed kept"
                    + ("." if summary["feasible"] else ": no full assignment exists, see why below."),
                )
            elif action == "add":
                paper = get_object_or_404(Paper, workshop=ws, number=request.POST.get("paper") or 0)
                if selectors.is_conflicted(paper=paper, user=request.user):
                    raise ValidationError("You have a conflict with this paper: another chair assigns it.")
                user = get_object_or_404(get_user_model(), pk=request.POST.get("user") or 0)
                services.assignment_add(paper=paper, user=user)
                messages.success(request, f"Reviewer added to paper #{paper.number} (proposed).")
            elif action == "remove":
                row = get_object_or_404(
                    Assignment, pk=request.POST.get("assignment") or 0, paper__workshop=ws
                )
                if selectors.is_conflicted(paper=row.paper, user=request.user):
                    raise Http404("No such assignment.")
                services.assignment_remove(assignment=row)
                messages.success(request, f"Reviewer removed from paper #{row.paper.number}.")
            elif action == "commit":
                count = services.assignments_commit(workshop=ws)
                messages.success(request, f"{count} assignment(s) committed; reviewers notified.")
        except ValidationError as exc:
            _errors(request, exc)
        return redirect("reviewing:assignment", workshop=ws.slug)
    # A chair never sees who reviews a paper they are conflicted with (their own, say).
    papers = list(
        selectors.papers_under_review(workshop=ws)
        .filter(status=Paper.Status.SUBMITTED)
        .exclude(id__in=selectors.conflicted_paper_ids(workshop=ws, user=request.user))
        .order_by("number")
    )
    rows = (
        Assignment.objects.filter(paper__in=papers)
        .select_related("user__profile", "review")
        .order_by("paper__number", "number", "id")
    )
    by_paper = {p.id: [] for p in papers}
    for row in rows:
        by_paper[row.paper_id].append(row)
    return render(
        request,
        "reviewing/assignment.html",
        {
            "workshop": ws,
            "config": config,
            "run": config.last_run,
            "preview": services.assignment_preview(workshop=ws),
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
            "comments": Comment.objects.filter(paper=paper) if can_read else [],
            "meta": MetaReview.objects.filter(paper=paper).first() if can_read else None,
            "has_pdf": paper_review_file(paper=paper) is not None,
            "assignments": paper.assignments.filter(state=Assignment.State.COMMITTED).select_related("review")
            if is_chair
            else [],
            "decision": Decision.objects.filter(paper=paper).first() if is_chair else None,
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
def review(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.write_review")
    mine = selectors.assignment_for(paper=paper, user=request.user)
    instance = Review.objects.filter(assignment=mine).first()
    form = ReviewForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            services.review_save(assignment=mine, data=form.cleaned_data, submit=submit)
        except ValidationError as exc:
            _errors(request, exc)
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
    return render(request, "reviewing/_discussion.html", {"comments": Comment.objects.filter(paper=paper)})


@login_required
@require_POST
def discuss(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.discuss")
    as_chair = selectors.assignment_for(paper=paper, user=request.user) is None
    try:
        services.comment_post(
            paper=paper, user=request.user, text=request.POST.get("text", ""), as_chair=as_chair
        )
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("reviewing:paper", workshop=ws.slug, number=number)


@login_required
@require_POST
def meta_review(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.decide")
    services.meta_review_save(paper=paper, user=request.user, text=request.POST.get("text", ""))
    if request.POST.get("decision") in Decision.Outcome.values:
        try:
            services.decision_set(papers=[paper], outcome=request.POST["decision"], user=request.user)
        except ValidationError as exc:
            _errors(request, exc)
    messages.success(request, "Meta-review saved.")
    return redirect("reviewing:paper", workshop=ws.slug, number=number)


# --- Decisions and release (chair) ---------------------------------------------------------------


@login_required
def decisions(request, workshop):
    ws = _chair(request, workshop)
    if request.method == "POST":
        numbers = [int(n) for n in request.POST.getlist("paper") if n.isdigit()]
        visible = {
            s.paper.number: s.paper for s in selectors.decision_dashboard(workshop=ws, user=request.user)
        }
        chosen = [visible[n] for n in numbers if n in visible]
        if not chosen:
            messages.error(request, "Select at least one paper.")
        else:
            try:
                count = services.decision_set(
                    papers=chosen, outcome=request.POST.get("outcome", ""), user=request.user
                )
                messages.success(request, f"Decision recorded for {count} paper(s).")
            except ValidationError as exc:
                _errors(request, exc)
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


@login_required
def release(request, workshop):
    ws = _chair(request, workshop)
    config = selectors.review_settings_get(workshop=ws)
    form = ReleaseForm(
        request.POST or None,
        initial={"subject": config.notification_subject, "body": config.notification_body},
    )
    pending = list(
        Decision.objects.filter(paper__workshop=ws, released_at__isnull=True).select_related("paper")
    )
    previews, error = [], ""
    subject = (
        form.data.get("subject", config.notification_subject)
        if form.is_bound
        else config.notification_subject
    )
    body = form.data.get("body", config.notification_body) if form.is_bound else config.notification_body
    try:
        previews = [
            (d.paper, *services.notification_render(paper=d.paper, subject=subject, body=body))
            for d in pending[:3]
        ]
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.method == "POST" and form.is_valid() and request.POST.get("action") == "send" and not error:
        count = services.decisions_release(workshop=ws, subject=subject, body=body, user=request.user)
        messages.success(request, f"{count} decision(s) released; the authors are being notified.")
        return redirect("reviewing:release", workshop=ws.slug)
    return render(
        request,
        "reviewing/release.html",
        {
            "workshop": ws,
            "form": form,
            "pending": pending,
            "previews": previews,
            "error": error,
            "released": Decision.objects.filter(paper__workshop=ws, released_at__isnull=False).count(),
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
            "meta": MetaReview.objects.filter(paper=paper).first(),
        },
    )


@login_required
def author_conflicts(request, workshop, number):
    ws = _workshop(request, workshop)
    paper = _paper(ws, number, request.user, "reviewing.declare_conflicts")
    members = selectors.committee_users(workshop=ws, roles=list(Membership.Role.values))
    if request.method == "POST":
        ids = {int(x) for x in request.POST.getlist("member") if x.isdigit()}
        services.conflicts_set_by_author(paper=paper, user_ids=ids)
        messages.success(request, "Your conflicts of interest were saved.")
        return redirect("reviewing:author-conflicts", workshop=ws.slug, number=number)
    declared = set(
        Conflict.objects.filter(paper=paper, source=Conflict.Source.AUTHOR).values_list("user_id", flat=True)
    )
    return render(
        request,
        "reviewing/author_conflicts.html",
        {
            "workshop": ws,
            "paper": paper,
            "members": [(m, m.id in declared) for m in members],
        },
    )
