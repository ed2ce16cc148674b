"""REST API of the challenge side, under /api/challenges/ (token or session auth; see /api/docs/).

- `GET <workshop>/<challenge>/`: the challenge, its contract, metrics, open phase, and the caller's team
  and remaining submissions;
- `GET <workshop>/<challenge>/submissions/`: the caller's team's validation submissions;
- `POST <workshop>/<challenge>/submissions/` (multipart: `file`, optional `method_name`,
  `method_description`): submit results, exactly as the web form does (same checks and limits);
- `GET <workshop>/<challenge>/submissions/<uuid>/`: status, scores, per-file breakdown (empty where
  the challenge hides it: per-file accuracy would reveal the hidden labels);
- `GET <workshop>/<challenge>/leaderboard/`: the validation leaderboard, when visible to the caller.
"""

from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.uploads import UploadLimitedMixin
from conference.selectors import workshop_get
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
        return self.context["request"].build_absolute_uri(sub.get_absolute_url())

    def get_per_file(self, sub) -> list[dict]:
        """Empty when the challenge hides per-file scores (they would reveal hidden labels)."""
        return sub.per_file if sub.challenge.per_file_scores_visible else []


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    method_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    method_description = serializers.CharField(required=False, default="", allow_blank=True)


def _challenge(workshop: str, challenge: str, user) -> Challenge:
    ws = workshop_get(slug=workshop, user=user)
    ch = selectors.challenge_get(workshop=ws, slug=challenge)
    if ch is None:
        raise Http404
    return ch


class ChallengeView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Challenge",
            fields={
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
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    def upload_limits(self, request, workshop, challenge) -> int:
        ch = selectors.challenge_get_by_slugs(workshop_slug=workshop, slug=challenge)
        if ch is None:
            raise Http404
        return ch.max_upload_mb * 1024 * 1024

    @extend_schema(responses=SubmissionSerializer(many=True))
    def get(self, request, workshop, challenge):
        ch = _challenge(workshop, challenge, request.user)
        team = selectors.team_for(request.user, ch)
        subs = selectors.submissions_for_team(team=team) if team else []
        return Response(SubmissionSerializer(subs, many=True, context={"request": request}).data)

    @extend_schema(request=UploadSerializer, responses={201: SubmissionSerializer})
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
            raise exceptions.ValidationError({"detail": exc.messages}) from exc
        return Response(
            SubmissionSerializer(sub, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class SubmissionDetailView(APIView):
    @extend_schema(responses=SubmissionSerializer)
    def get(self, request, workshop, challenge, pk):
        ch = _challenge(workshop, challenge, request.user)
        sub = selectors.submission_get(challenge=ch, public_id=pk)
        if sub is None or not request.user.has_perm("challenges.view_submission", sub):
            raise Http404
        return Response(SubmissionSerializer(sub, context={"request": request}).data)


class LeaderboardView(APIView):
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


urlpatterns = [
    path("<slug:workshop>/<slug:challenge>/", ChallengeView.as_view(), name="challenge"),
    path("<slug:workshop>/<slug:challenge>/submissions/", SubmissionListView.as_view(), name="submissions"),
    path(
        "<slug:workshop>/<slug:challenge>/submissions/<uuid:pk>/",
        SubmissionDetailView.as_view(),
        name="submission",
    ),
    path("<slug:workshop>/<slug:challenge>/leaderboard/", LeaderboardView.as_view(), name="leaderboard"),
]
