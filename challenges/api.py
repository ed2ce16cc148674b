"""REST API of the challenge side, under /api/challenges/ (token or session auth; see /api/docs/).

- `GET <workshop>/<challenge>/`: the challenge, its contract, metrics, open phase, and the caller's team
  and remaining submissions;
- `GET <workshop>/<challenge>/submissions/`: the caller's team's validation submissions;
- `POST <workshop>/<challenge>/submissions/` (multipart: `file`, optional `method_name`,
  `method_description`): submit results, exactly as the web form does (same checks and limits);
- `GET <workshop>/<challenge>/submissions/<uuid>/`: status, scores, per-file breakdown (empty where
  the challenge hides it: per-file accuracy would reveal the hidden labels);
- `GET <workshop>/<challenge>/leaderboard/` (and `leaderboard.csv`): the validation leaderboard, when
  visible to the caller (404 before, as the page);
- `GET ` (the root, `?workshop=<slug>`): the challenges of the public editions.

Errors are JSON (config/api_errors.py); each endpoint's schema lists the statuses it answers.
"""

import datetime as dt

from django.http import Http404, HttpResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common import csv_export
from common.uploads import UploadLimitedMixin
from common.urls import absolute_url
from conference.selectors import workshop_get, workshop_list_public
from config.api_errors import error_response
from config.middleware import arrived_at

from . import selectors, timeline
from .models import Challenge, Submission
from .services import submissions as submission_services
from .services.base import ChallengeError

app_name = "challenges-api"


class SubmissionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    team = serializers.CharField(source="team.name", read_only=True)
    url = serializers.SerializerMethodField()
    per_file = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "url",
            "team",
            "original_name",
            "size",
            "method_name",
            "method_description",
            "status",
            "error",
            "scores",
            "per_file",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, sub) -> str:
        return absolute_url(sub.get_absolute_url())

    def get_per_file(self, sub) -> list[dict]:
        """Empty when the challenge hides per-file scores (they would reveal hidden labels)."""
        return sub.per_file if sub.challenge.per_file_scores_visible else []


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    method_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    method_description = serializers.CharField(required=False, default="", allow_blank=True)


def refusal_messages(exc, challenge: Challenge, user) -> list[str]:
    """A refusal's messages; to a caller with no team, also where to register and form one (the API
    has no registration: it is done once, on the challenge's page, accepting its terms)."""
    messages = list(exc.messages)
    if selectors.team_for(user, challenge) is None:
        messages.append(
            f"Registration (accepting the terms) and teams are on the challenge's page: "
            f"{absolute_url(challenge.get_absolute_url())}"
        )
    return messages


def _challenge(workshop: str, challenge: str, user) -> Challenge:
    ws = workshop_get(slug=workshop, user=user)
    ch = selectors.challenge_get(workshop=ws, slug=challenge)
    if ch is None:
        raise Http404
    return ch


class ChallengeSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(
        source="pk",
        help_text="The challenge's id: a challenge paper names it (`challenge` of the papers API).",
    )
    workshop = serializers.CharField(source="workshop.slug")
    slug = serializers.CharField()
    title = serializers.CharField()
    target_platform = serializers.CharField()
    phase = serializers.SerializerMethodField(help_text="The phase open for submissions now, or null.")
    url = serializers.SerializerMethodField()

    def get_phase(self, ch) -> str | None:
        return timeline.phase_open(selectors.timeline_for(ch), timezone.now())

    def get_url(self, ch) -> str:
        return absolute_url(ch.get_absolute_url())


class ChallengeListView(APIView):
    permission_classes = [permissions.AllowAny]  # public, as its page

    @extend_schema(
        parameters=[OpenApiParameter("workshop", str, description="Only this edition's challenges.")],
        responses={200: ChallengeSummarySerializer(many=True), 404: error_response(404, "No such edition.")},
        summary="Challenges of the public editions",
    )
    def get(self, request):
        if request.query_params.get("workshop"):
            workshops = [workshop_get(slug=request.query_params["workshop"], user=request.user)]
        else:
            workshops = list(workshop_list_public())
        challenges = [ch for ws in workshops for ch in selectors.challenge_list(workshop=ws)]
        return Response(ChallengeSummarySerializer(challenges, many=True, context={"request": request}).data)


class ChallengeView(APIView):
    permission_classes = [permissions.AllowAny]  # public, as its page

    @extend_schema(
        responses=inline_serializer(
            "Challenge",
            fields={
                "id": serializers.IntegerField(help_text="A challenge paper names it (`challenge`)."),
                "slug": serializers.CharField(),
                "title": serializers.CharField(),
                "target_platform": serializers.CharField(),
                "contract": serializers.DictField(),
                "metrics": serializers.ListField(),
                "result_format": serializers.CharField(),
                "phase": serializers.CharField(allow_null=True),
                "team": serializers.CharField(allow_null=True),
                "left_today": serializers.IntegerField(allow_null=True),
                "left_total": serializers.IntegerField(allow_null=True),
            },
        )
    )
    def get(self, request, workshop, challenge):
        ch = _challenge(workshop, challenge, request.user)
        team = selectors.team_for(request.user, ch)
        limits = selectors.submission_limits(team=team, challenge=ch) if team else None
        return Response(
            {
                "id": ch.pk,
                "slug": ch.slug,
                "title": ch.title,
                "target_platform": ch.target_platform,
                "contract": ch.contract,
                "metrics": ch.metrics,
                "result_format": ch.result_format,
                "phase": timeline.phase_open(selectors.timeline_for(ch), timezone.now()),
                "team": team.name if team else None,
                "left_today": limits.left_today if limits else None,
                "left_total": limits.left_total if limits else None,
            }
        )


class SubmissionListView(UploadLimitedMixin, APIView):
    parser_classes = [parsers.MultiPartParser]

    def upload_limits(self, request, workshop, challenge) -> int:
        ch = selectors.challenge_get_by_slugs(workshop_slug=workshop, slug=challenge)
        if ch is None:
            raise Http404
        return ch.max_upload_mb * 1024 * 1024

    @extend_schema(
        responses=SubmissionSerializer(many=True), summary="Your team's validation submissions, newest first"
    )
    def get(self, request, workshop, challenge):
        ch = _challenge(workshop, challenge, request.user)
        team = selectors.team_for(request.user, ch)
        subs = selectors.submissions_for_team(team=team) if team else []
        return Response(SubmissionSerializer(subs, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: SubmissionSerializer,
            400: error_response(400, "Refused: outside the phase, over the limits, not a valid archive…"),
        },
        summary="Submit validation results (as the page: same checks and limits)",
    )
    def post(self, request, workshop, challenge):
        ch = _challenge(workshop, challenge, request.user)
        self.check_upload_complete(request)
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        f = upload.validated_data["file"]
        try:
            sub = submission_services.submission_create(
                challenge=ch,
                user=request.user,
                name=f.name,
                data=f.read(),
                method_name=upload.validated_data["method_name"],
                method_description=upload.validated_data["method_description"],
                now=arrived_at(request),
            )
        except ChallengeError as exc:
            raise exceptions.ValidationError({"detail": refusal_messages(exc, ch, request.user)}) from exc
        return Response(
            SubmissionSerializer(sub, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class SubmissionDetailView(APIView):
    @extend_schema(responses=SubmissionSerializer, summary="One validation submission: status and scores")
    def get(self, request, workshop, challenge, pk):
        ch = _challenge(workshop, challenge, request.user)
        sub = selectors.submission_get(challenge=ch, public_id=pk)
        if sub is None or not request.user.has_perm("challenges.view_submission", sub):
            raise Http404
        return Response(SubmissionSerializer(sub, context={"request": request}).data)


class LeaderboardView(APIView):
    permission_classes = [permissions.AllowAny]  # public, as its page

    @extend_schema(
        responses=inline_serializer(
            "LeaderboardRow",
            many=True,
            fields={
                "rank": serializers.IntegerField(),
                "team": serializers.CharField(),
                "scores": serializers.DictField(),
                "method": serializers.CharField(),
                "submitted_at": serializers.DateTimeField(),
            },
        )
    )
    def get(self, request, workshop, challenge):
        ch = _challenge(workshop, challenge, request.user)
        if not selectors.leaderboard_visible(challenge=ch, user=request.user):
            raise Http404("This leaderboard is not public yet.")
        return Response(
            [
                {
                    "rank": r.rank,
                    "team": r.team,
                    "scores": r.scores,
                    "method": r.method,
                    "submitted_at": r.submitted_at,
                }
                for r in selectors.leaderboard_validation(challenge=ch)
            ]
        )


def _leaderboard_csv_text(ch: Challenge) -> str:
    header = ["rank", "team", *[m["label"] for m in ch.metrics], "method", "submitted_at_utc"]
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
    return csv_export.csv_text(rows, header=header)


class LeaderboardCsvView(APIView):
    permission_classes = [permissions.AllowAny]  # public, as its page

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(str, description="rank, team, one column per metric, method"),
            404: error_response(404, "No such challenge, or its leaderboard is not public yet."),
        },
        summary="The validation leaderboard as CSV",
    )
    def get(self, request, workshop, challenge):
        ch = _challenge(workshop, challenge, request.user)
        if not selectors.leaderboard_visible(challenge=ch, user=request.user):
            raise Http404("This leaderboard is not public yet.")
        response = HttpResponse(_leaderboard_csv_text(ch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{ch.workshop.slug}-{ch.slug}-validation.csv"'
        )
        return response


urlpatterns = [
    path("", ChallengeListView.as_view(), name="challenges"),
    path("<slug:workshop>/<slug:challenge>/", ChallengeView.as_view(), name="challenge"),
    path("<slug:workshop>/<slug:challenge>/submissions/", SubmissionListView.as_view(), name="submissions"),
    path(
        "<slug:workshop>/<slug:challenge>/submissions/<uuid:pk>/",
        SubmissionDetailView.as_view(),
        name="submission",
    ),
    path("<slug:workshop>/<slug:challenge>/leaderboard/", LeaderboardView.as_view(), name="leaderboard"),
    path(
        "<slug:workshop>/<slug:challenge>/leaderboard.csv",
        LeaderboardCsvView.as_view(),
        name="leaderboard-csv",
    ),
]
