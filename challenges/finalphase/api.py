"""REST API of the final phase, under /api/final/<workshop>/<challenge>/ (token or session auth;
documented at /api/schema/ and /api/docs/), so a team can script its final submission as with the
evaluation API:

- `POST submissions/` (multipart: model, optional dynamic_model, results, method_name) → 201 with the
  submission, or 400 with `errors` (the same messages as the page);
- `GET submissions/<uuid>/` → status of both measurements; the numbers only when the team may see them;
- `GET leaderboard/` → the final leaderboard when the caller may see it (403 before).
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges import selectors as ch_selectors
from challenges.models import Challenge
from common.uploads import UploadLimitedMixin
from conference.selectors import workshop_get
from config.middleware import arrived_at

from . import selectors
from .models import ModelSubmission
from .services.base import FinalPhaseRefused
from .services.submissions import model_submission_create

app_name = "finalphase-api"


def _challenge(request, workshop: str, challenge: str) -> Challenge:
    ws = workshop_get(slug=workshop, user=request.user)
    ch = ch_selectors.challenge_get(workshop=ws, slug=challenge)
    if ch is None:
        raise Http404
    return ch


class FinalSubmissionSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name")
    # Plain strings (not enums): both steps share one set of choices, which the schema would name twice.
    status = serializers.CharField(help_text="running, done or failed")
    fidelity_status = serializers.CharField(help_text="queued, running, done, failed or skipped")
    runtime_status = serializers.CharField(help_text="queued, running, done, failed or skipped")
    url = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField(
        help_text="Metrics, runtime, memory and score; null while hidden."
    )

    class Meta:
        model = ModelSubmission
        fields = [
            "public_id",
            "url",
            "team",
            "method_name",
            "status",
            "error",
            "fidelity_status",
            "fidelity_progress",
            "fidelity_error",
            "runtime_status",
            "runtime_error",
            "device_name",
            "results",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()

    def get_results(self, obj) -> dict | None:
        if obj.status != ModelSubmission.Status.DONE or not self.context.get("own_visible"):
            return None
        return {**obj.quantities(), "score": obj.score, "score_error": obj.score_error}


class FinalUploadSerializer(serializers.Serializer):
    model = serializers.FileField()
    dynamic_model = serializers.FileField(required=False)
    results = serializers.FileField(required=False)
    method_name = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SubmissionListCreate(UploadLimitedMixin, APIView):
    parser_classes = [parsers.MultiPartParser]

    def upload_limits(self, request, workshop, challenge) -> dict[str, int]:
        ch = ch_selectors.challenge_get_by_slugs(workshop_slug=workshop, slug=challenge)
        if ch is None:
            raise Http404
        model = selectors.final_settings_for(challenge=ch).max_model_mb * 1024 * 1024
        return {"model": model, "dynamic_model": model, "results": ch.max_upload_mb * 1024 * 1024}

    @extend_schema(request=FinalUploadSerializer, responses={201: FinalSubmissionSerializer})
    def post(self, request, workshop, challenge):
        ch = _challenge(request, workshop, challenge)
        self.check_upload_complete(request)
        upload = FinalUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        try:
            submission = model_submission_create(
                challenge=ch,
                user=request.user,
                model_file=data["model"],
                dynamic_model_file=data.get("dynamic_model"),
                results_file=data.get("results"),
                method_name=data.get("method_name", ""),
                now=arrived_at(request),
            )
        except FinalPhaseRefused as exc:
            return Response(
                {"errors": exc.messages, "reason": exc.reason}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(
            FinalSubmissionSerializer(submission, context={"own_visible": False}).data,
            status=status.HTTP_201_CREATED,
        )


class SubmissionDetail(APIView):
    @extend_schema(responses={200: FinalSubmissionSerializer})
    def get(self, request, workshop, challenge, pk):
        ch = _challenge(request, workshop, challenge)
        submission = selectors.model_submission_get(challenge=ch, public_id=pk)
        if submission is None or not request.user.has_perm("finalphase.view_team_material", submission):
            raise NotFound("No such submission.")
        visible = selectors.own_results_visible_to(request.user, ch)
        return Response(FinalSubmissionSerializer(submission, context={"own_visible": visible}).data)


class Leaderboard(APIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "FinalLeaderboard",
                fields={
                    "columns": serializers.ListField(child=serializers.DictField()),
                    "rows": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    def get(self, request, workshop, challenge):
        ch = _challenge(request, workshop, challenge)
        if not request.user.has_perm("finalphase.view_leaderboard", ch):
            raise PermissionDenied("The final results are not released yet.")
        board = selectors.final_leaderboard(challenge=ch)
        return Response(
            {
                "columns": [
                    {"key": c.key, "label": c.label, "higher_is_better": c.higher_is_better}
                    for c in board.columns
                ],
                "rows": [
                    {
                        "rank": r.rank,
                        "team": r.team,
                        "values": r.values,
                        "score": r.score,
                        "note": r.note,
                        "device": r.device,
                    }
                    for r in board.rows()
                ],
            }
        )


urlpatterns = [
    path("<slug:workshop>/<slug:challenge>/submissions/", SubmissionListCreate.as_view(), name="submissions"),
    path(
        "<slug:workshop>/<slug:challenge>/submissions/<uuid:pk>/",
        SubmissionDetail.as_view(),
        name="submission",
    ),
    path("<slug:workshop>/<slug:challenge>/leaderboard/", Leaderboard.as_view(), name="leaderboard"),
]
