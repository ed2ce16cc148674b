"""Challenge pages (thin views over `services`, `selectors`, `timeline` and the `rules` permissions)."""

import datetime as dt
import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from common import csv_export
from common.uploads import upload_limited, upload_refused
from conference.selectors import workshop_get
from conference.templatetags.workshop_time import when
from config.fastpath import X_STORE
from config.middleware import arrived_at

from . import leaderboard_cache, selectors, timeline
from .console import views as console_views
from .forms import DataFileForm, SubmissionForm
from .models import Challenge, Milestone, Submission
from .rules import is_challenge_organiser
from .services import data as data_services
from .services import registration as registration_services
from .services import submissions as submission_services
from .services import teams as team_services
from .services.base import ChallengeError
from .templatetags.challenge_tags import metric_value


def _challenge(request, workshop, challenge) -> Challenge:
    ws = workshop_get(slug=workshop, user=request.user)
    ch = selectors.challenge_get(workshop=ws, slug=challenge)
    if ch is None:
        raise Http404("No such challenge.")
    return ch


def with_challenge(view):
    @wraps(view)
    def wrapped(request, workshop, challenge, **kwargs):
        return view(request, _challenge(request, workshop, challenge), **kwargs)

    return wrapped


def _errors(request, exc: ChallengeError) -> None:
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
    return render(
        request,
        "challenges/list.html",
        {
            "workshop": ws,
            "challenges": selectors.challenge_list(workshop=ws),
            "can_add_track": request.user.has_perm("challenges.add_challenge", ws),
        },
    )


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
    # The same rules predicate as the final leaderboard page: after the release it shows the board to the
    # track's registered participants (and organisers), not to every visitor.
    ctx["final_leaderboard_visible"] = request.user.has_perm("finalphase.view_leaderboard", ch)
    released_at = tl.at(timeline.K_PRELIMINARY)
    ctx["final_results_released"] = released_at is not None and released_at <= now
    if ctx["team"]:
        ctx["limits"] = selectors.submission_limits(team=ctx["team"], challenge=ch, now=now)
    return render(request, "challenges/detail.html", ctx)


@login_required
@require_POST
@with_challenge
def register(request, ch):
    try:
        reg = registration_services.challenge_register(
            challenge=ch, user=request.user, accept_terms=request.POST.get("accept_terms") == "on"
        )
    except ChallengeError as exc:
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
        ctx["members"] = selectors.team_members(team=ctx["team"])
        ctx["invitations"] = selectors.team_invitations_open(team=ctx["team"])
    return render(request, "challenges/team.html", ctx)


def _team_action(request, ch, action, success):
    try:
        action()
    except ChallengeError as exc:
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
        lambda: team_services.team_create(challenge=ch, user=request.user, name=name),
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
        lambda: team_services.team_join(challenge=ch, user=request.user, code=code),
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
        lambda: team_services.team_invite(team=team, by=request.user, email=email),
        f"Invitation sent to {email}.",
    )


@login_required
@require_POST
@with_challenge
def team_leave(request, ch):
    return _team_action(
        request, ch, lambda: team_services.team_leave(challenge=ch, user=request.user), "You left the team."
    )


@login_required
@with_challenge
def invitation(request, ch, token):
    inv = selectors.team_invitation_get(challenge=ch, token=token)
    if inv is None:
        raise Http404("No such invitation.")
    if request.method == "POST":
        try:
            team_services.team_invitation_accept(token=token, user=request.user)
        except ChallengeError as exc:
            _errors(request, exc)
        else:
            messages.success(request, f"You joined “{inv.team.name}”.")
            return redirect("challenges:team", workshop=ch.workshop.slug, challenge=ch.slug)
    return render(request, "challenges/invitation.html", _context(request, ch, invitation=inv))


# --- Data -----------------------------------------------------------------------------------------


@login_required
@with_challenge
def data_download(request, ch, pk):
    data_file = selectors.data_file_get(challenge=ch, pk=pk)
    # The same answer whether the file does not exist or may not be read: nothing to learn by guessing.
    if data_file is None or not request.user.has_perm("challenges.download_data", data_file):
        raise Http404("No such file, or it is not available to you (yet).")
    if data_file.external_url:
        return HttpResponseRedirect(data_file.external_url)
    name = data_file.file.name.rsplit("/", 1)[-1].split("-", 1)[-1]
    return FileResponse(data_file.file.open("rb"), as_attachment=True, filename=name)


# --- Submissions ----------------------------------------------------------------------------------


def _upload_limit(request, workshop, challenge) -> int:
    ch = selectors.challenge_get_by_slugs(workshop_slug=workshop, slug=challenge)
    if ch is None:
        raise Http404("No such challenge.")
    return ch.max_upload_mb * 1024 * 1024


def _refuse_upload(request, message, workshop, challenge):
    messages.error(request, message)
    return redirect("challenges:submissions", workshop=workshop, challenge=challenge)


@upload_limited(_upload_limit, _refuse_upload)
@login_required
@with_challenge
def submissions(request, ch):
    ctx = _context(request, ch)
    team = ctx["team"]
    if request.method == "POST":
        request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
        if upload_refused(request):
            messages.error(request, upload_refused(request))
            return redirect("challenges:submissions", workshop=ch.workshop.slug, challenge=ch.slug)
    form = SubmissionForm(request.POST or None, request.FILES or None, challenge=ch)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            sub = submission_services.submission_create(
                challenge=ch,
                user=request.user,
                name=upload.name,
                data=upload.read(),
                method_name=form.cleaned_data["method_name"],
                method_description=form.cleaned_data["method_description"],
                now=arrived_at(request),
            )
        except ChallengeError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Your results were received and are being scored.")
            return redirect(sub)
    ctx["form"] = form
    ctx["closes"] = timeline.phase_deadline(ctx["timeline"], timeline.Phase.VALIDATION)
    if team:
        ctx["limits"] = selectors.submission_limits(team=team, challenge=ch, now=ctx["now"])
        ctx["submissions"] = selectors.submissions_for_team(team=team)
    return render(request, "challenges/submissions.html", ctx)


def _submission(request, ch, pk) -> Submission:
    sub = selectors.submission_get(challenge=ch, public_id=pk)
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
# Built for a crowd: the ranked rows, each rendered page of 100 rows and the CSV are cached under the
# challenge's leaderboard version (`leaderboard_cache`, bumped by whatever changes the board). Visitors
# who are not signed in get the whole page from the cache (the CSRF token is put in per request); a
# signed-in participant gets the cached table with their team's row marked. Visibility is decided per
# request from the milestones (one query), so the clock opening a board needs no invalidation.

CSRF_PLACEHOLDER = "__leaderboard_csrf_token__"


def _requested_page(request) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdecimal() and len(raw) < 7 else 1


def _plain_visitor(request) -> bool:
    """Not signed in and nothing personal to show (no session, no pending messages): the cached page."""
    return (
        not request.user.is_authenticated
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _leaderboard_table(request, ch, *, version: str, page: int) -> tuple[str, selectors.LeaderboardPage]:
    """The rendered table (+ pager) of one page, cached per version and page; anyone's team unmarked."""

    def build():
        pg = selectors.leaderboard_validation_page(challenge=ch, page=page, version=version)
        html = render_to_string(
            "challenges/_leaderboard_table.html",
            {"workshop": ch.workshop, "challenge": ch, "page": pg, "rows_html": _rows_html(ch, pg.rows)},
        )
        return html, pg

    return leaderboard_cache.get_or_build(ch.pk, f"validation-table:{page}", build, ver=version)


def _rows_html(ch, rows) -> str:
    """The table's rows, written here rather than by the template engine (ten times faster: a page is
    rendered again after every new score)."""
    metrics = ch.metrics
    out = []
    for row in rows:
        cells = "".join(format_html('<td class="num">{}</td>', metric_value(row.scores, m)) for m in metrics)
        out.append(
            format_html(
                '<tr id="team-{}"><td class="num">{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>\n',
                row.team_id,
                row.rank,
                row.team,
                mark_safe(cells),  # noqa: S308 - built with format_html above
                row.method,
                when(row.submitted_at, ch.workshop),
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped by format_html


def _visitor_page_name(visible: bool, fragment: bool, page: int) -> str:
    return f"validation-page:{int(visible)}:{int(fragment)}:{page}"


def _shared_with_every_visitor(response: HttpResponse, *, pk: int, ver: str, visible_from) -> HttpResponse:
    """Marks a plain visitor's page as the same for everyone: the WSGI fast path (config/fastpath.py)
    may store it under this leaderboard version and serve it to the next visitors without Django."""
    response[X_STORE] = json.dumps(
        {"pk": pk, "ver": ver, "visible_from": visible_from.isoformat() if visible_from else None}
    )
    return response


def _html_response(request, html: str) -> HttpResponse:
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    response = HttpResponse(html)
    patch_vary_headers(response, ["HX-Request"])
    return response


def leaderboard(request, workshop, challenge):
    if _plain_visitor(request):
        page, fragment, route = _requested_page(request), bool(request.htmx), {}
        html = leaderboard_cache.route_lookup(
            workshop_slug=workshop,
            challenge_slug=challenge,
            name_for=lambda visible: _visitor_page_name(visible, fragment, page),
            now=timezone.now(),
            route_out=route,
        )
        if html is not None:
            response = _html_response(request, html)
            if fragment:
                return response
            return _shared_with_every_visitor(
                response, pk=route["pk"], ver=route["ver"], visible_from=route["visible_from"]
            )
    return _leaderboard(request, workshop, challenge)


@with_challenge
def _leaderboard(request, ch):
    tl = selectors.timeline_for(ch)
    visible = timeline.leaderboard_visible(
        tl, timeline.Phase.VALIDATION, timezone.now(), is_organiser=is_challenge_organiser(request.user, ch)
    )
    version = leaderboard_cache.version(ch.pk)
    page = _requested_page(request)
    fragment = bool(request.htmx)
    visitor = _plain_visitor(request)
    if visible:
        # Pages that do not exist show the nearest one and are cached (and routed) under its number.
        num_pages = selectors.leaderboard_validation_page(challenge=ch, page=1, version=version).num_pages
        page = selectors.page_number(page, num_pages)

    def render_page(team=None) -> str:
        ctx = {"workshop": ch.workshop, "challenge": ch, "visible": visible, "team": team}
        if visible:
            table, pg = _leaderboard_table(request, ch, version=version, page=page)
            if team is not None:
                marker = f'<tr id="team-{team.pk}"'
                table = table.replace(marker, f'{marker} class="now"', 1)
                ctx["position"] = selectors.leaderboard_team_position(
                    challenge=ch, team_id=team.pk, version=version
                )
            ctx.update(table=mark_safe(table), page=pg)  # noqa: S308 - rendered by our own template
        if fragment:
            return ctx.get("table", "")
        if visitor:
            ctx["csrf_token"] = CSRF_PLACEHOLDER
        return render_to_string("challenges/leaderboard.html", ctx, request)

    if visitor:
        # The same bytes for every visitor: cached whole, and found from the URL next time.
        html = leaderboard_cache.get_or_build(
            ch.pk, _visitor_page_name(visible, fragment, page), render_page, ver=version, stale_ok=True
        )
        leaderboard_cache.route_remember(
            workshop_slug=ch.workshop.slug,
            challenge_slug=ch.slug,
            challenge_id=ch.pk,
            ver=version,
            visible_from=tl.at(timeline.K_VALIDATION),
        )
        response = _html_response(request, html)
        if fragment:
            return response
        return _shared_with_every_visitor(
            response, pk=ch.pk, ver=version, visible_from=tl.at(timeline.K_VALIDATION)
        )
    return _html_response(request, render_page(team=selectors.team_for(request.user, ch)))


def _leaderboard_csv_bytes(ch) -> bytes:
    rows = (
        [
            row.rank,
            row.team,
            *[
                ""
                if row.scores.get(m["key"]) is None
                else f"{row.scores[m['key']]:.{m.get('precision', 4)}f}"
                for m in ch.metrics
            ],
            row.method,
            row.submitted_at.astimezone(dt.UTC).isoformat(),
        ]
        for row in selectors.leaderboard_validation(challenge=ch)
    )
    header = ["rank", "team", *[m["label"] for m in ch.metrics], "method", "submitted_at_utc"]
    return csv_export.csv_text(rows, header=header).encode()


def leaderboard_csv(request, workshop, challenge):
    if _plain_visitor(request):
        route = {}
        body = leaderboard_cache.route_lookup(
            workshop_slug=workshop,
            challenge_slug=challenge,
            name_for=lambda visible: "validation-csv" if visible else "no-csv-for-hidden-boards",
            now=timezone.now(),
            route_out=route,
        )
        if body is not None:
            return _shared_with_every_visitor(
                _csv_response(workshop, challenge, body),
                pk=route["pk"],
                ver=route["ver"],
                visible_from=route["visible_from"],
            )
    return _leaderboard_csv(request, workshop, challenge)


def _csv_response(workshop_slug: str, challenge_slug: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{workshop_slug}-{challenge_slug}-validation.csv"'
    )
    return response


@with_challenge
def _leaderboard_csv(request, ch):
    tl = selectors.timeline_for(ch)
    if not timeline.leaderboard_visible(
        tl, timeline.Phase.VALIDATION, timezone.now(), is_organiser=is_challenge_organiser(request.user, ch)
    ):
        raise Http404("This leaderboard is not public yet.")
    version = leaderboard_cache.version(ch.pk)
    body = leaderboard_cache.get_or_build(
        ch.pk, "validation-csv", lambda: _leaderboard_csv_bytes(ch), ver=version, stale_ok=True
    )
    if _plain_visitor(request):
        leaderboard_cache.route_remember(
            workshop_slug=ch.workshop.slug,
            challenge_slug=ch.slug,
            challenge_id=ch.pk,
            ver=version,
            visible_from=tl.at(timeline.K_VALIDATION),
        )
    response = _csv_response(ch.workshop.slug, ch.slug, body)
    if _plain_visitor(request):
        return _shared_with_every_visitor(
            response, pk=ch.pk, ver=version, visible_from=tl.at(timeline.K_VALIDATION)
        )
    return response


# --- Organisers -----------------------------------------------------------------------------------


def _data_upload_limit(request, workshop, challenge) -> dict[str, int]:
    return {"upload": settings.MAX_UPLOAD_BYTES}


def _refuse_data_upload(request, message, workshop, challenge):
    messages.error(request, message)
    return redirect("challenges:manage", workshop=workshop, challenge=challenge)


@upload_limited(_data_upload_limit, _refuse_data_upload, labels={"upload": "a data file"})
@login_required
@with_challenge
def manage(request, ch):
    """The organiser's dashboard of a track (see `challenges.console`) and its data-file form."""
    if not is_challenge_organiser(request.user, ch):
        raise PermissionDenied
    if request.method == "POST":
        request.FILES  # noqa: B018 - parses the body now, through the upload guard's handler
        if upload_refused(request):
            messages.error(request, upload_refused(request))
            return redirect("challenges:manage", workshop=ch.workshop.slug, challenge=ch.slug)
    form = DataFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data_services.data_file_create(challenge=ch, **form.cleaned_data)
        except ChallengeError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The data file was stored.")
            return redirect("challenges:manage", workshop=ch.workshop.slug, challenge=ch.slug)
    ctx = _context(request, ch, form=form)
    ctx["registrations"] = selectors.registration_list(challenge=ch)
    ctx["data_files"] = selectors.data_files_for(challenge=ch, user=request.user)
    ctx["recent"] = selectors.submissions_recent(challenge=ch, limit=50)
    ctx.update(console_views.dashboard_context(ch))
    return render(request, "challenges/manage.html", ctx)


@login_required
@require_POST
@with_challenge
def registration_approve(request, ch, pk):
    if not is_challenge_organiser(request.user, ch):
        raise PermissionDenied
    reg = selectors.registration_get(challenge=ch, pk=pk)
    if reg is None:
        raise Http404("No such registration.")
    registration_services.registration_approve(
        registration=reg, approved=request.POST.get("approved", "1") == "1"
    )
    messages.success(request, f"Registration of {reg.user.email} updated.")
    return redirect("challenges:manage", workshop=ch.workshop.slug, challenge=ch.slug)
