"""REST API of the final phase, under /api/final/<workshop>/<challenge>/ (token or session auth;
documented at /api/schema/ and /api/docs/), so a team can script its final submission as with the
evaluation API:

- `POST submissions/` (multipart: model, optional dynamic_model, results, method_name) → 201 with the
  submission, or 400 with `errors` (the same messages as the page);
- `GET submissions/` → the caller's team's final submissions, newest first;
- `GET submissions/<uuid>/` → status of both measurements; the numbers only when the team may see them;
- `PUT factsheet/` (JSON) → the team's fact sheet, as the fact-sheet page saves it;
- `GET leaderboard/` → the final leaderboard when the caller may see it (403 before);
- `GET results.<csv|tex>` → the ranked results (organisers at once, everyone after the release).

Errors are JSON (config/api_errors.py); each endpoint's schema lists the statuses it answers.
"""

from django.http import Http404, HttpResponse
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import parsers, permissions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges import selectors as ch_selectors
from challenges.api import refusal_messages
from challenges.models import Challenge
from common.uploads import UploadLimitedMixin
from common.urls import absolute_url
from conference.selectors import workshop_get
from config.api_errors import error_payload, error_response, errors
from config.middleware import arrived_at

from . import selectors
from .models import ModelSubmission
from .services import factsheets
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
        return absolute_url(obj.get_absolute_url())

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

    @extend_schema(
        responses={200: FinalSubmissionSerializer(many=True)},
        summary="Your team's final submissions, newest first",
    )
    def get(self, request, workshop, challenge):
        ch = _challenge(request, workshop, challenge)
        team = ch_selectors.team_for(request.user, ch)
        subs = selectors.submissions_for_team(team=team) if team else []
        visible = selectors.own_results_visible_to(request.user, ch)
        return Response(FinalSubmissionSerializer(subs, many=True, context={"own_visible": visible}).data)

    @extend_schema(
        request={"multipart/form-data": FinalUploadSerializer},
        responses={
            201: FinalSubmissionSerializer,
            400: error_response(
                400,
                "Refused (outside the phase, over the limit, the model breaks the contract…): `errors` and `reason`.",
            ),
        },
        summary="Submit a final model (as the page: same checks, limits and deadline)",
    )
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
            messages = refusal_messages(exc, ch, request.user)
            return Response(
                {**error_payload(messages, code=exc.reason), "reason": exc.reason},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            FinalSubmissionSerializer(submission, context={"own_visible": False}).data,
            status=status.HTTP_201_CREATED,
        )


class SubmissionDetail(APIView):
    @extend_schema(
        responses={200: FinalSubmissionSerializer, **errors(404)},
        summary="One final submission: fidelity and runtime status; results when visible",
    )
    def get(self, request, workshop, challenge, pk):
        ch = _challenge(request, workshop, challenge)
        submission = selectors.model_submission_get(challenge=ch, public_id=pk)
        if submission is None or not request.user.has_perm("finalphase.view_team_material", submission):
            raise NotFound("No such submission.")
        visible = selectors.own_results_visible_to(request.user, ch)
        return Response(FinalSubmissionSerializer(submission, context={"own_visible": visible}).data)


class Leaderboard(APIView):
    permission_classes = [permissions.AllowAny]  # public once released, as its page

    @extend_schema(
        responses={
            200: inline_serializer(
                "FinalLeaderboard",
                fields={
                    "columns": serializers.ListField(child=serializers.DictField()),
                    "rows": serializers.ListField(child=serializers.DictField()),
                },
            ),
            403: error_response(403, "The final results are not released yet."),
        },
        summary="The final leaderboard (organisers at once; everyone after the release)",
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


class FactSheetMemberSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    affiliation = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=200, required=False, allow_blank=True)


class FactSheetSerializer(serializers.Serializer):
    team_name = serializers.CharField(max_length=120)
    contact_name = serializers.CharField(max_length=200)
    contact_email = serializers.EmailField()
    method_title = serializers.CharField(max_length=300)
    method_description = serializers.CharField()
    architecture_training = serializers.CharField()
    training_data_hardware = serializers.CharField()
    runtime_observations = serializers.CharField(required=False, allow_blank=True, default="")
    links = serializers.ListField(
        child=serializers.CharField(max_length=500),
        required=False,
        default=list,
        help_text="Web addresses (http:// or https://): code, paper, project page.",
    )
    members = FactSheetMemberSerializer(many=True)


class FactSheetView(APIView):
    parser_classes = [parsers.JSONParser]

    @extend_schema(
        request=FactSheetSerializer,
        responses={
            200: inline_serializer(
                "FactSheetSaved", {"team": serializers.CharField(), "url": serializers.CharField()}
            ),
            400: error_response(400, "Missing fields, or outside the fact-sheet window: `errors` says what."),
        },
        summary="Save your team's fact sheet (as the fact-sheet page)",
    )
    def put(self, request, workshop, challenge):
        ch = _challenge(request, workshop, challenge)
        form = FactSheetSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        members = [dict(m) for m in data.pop("members")]
        data["links"] = "\n".join(data.get("links", []))
        try:
            sheet = factsheets.factsheet_save(
                challenge=ch, user=request.user, data=data, members=members, now=arrived_at(request)
            )
        except FinalPhaseRefused as exc:
            messages = refusal_messages(exc, ch, request.user)
            return Response(
                {**error_payload(messages, code=exc.reason), "reason": exc.reason},
                status=status.HTTP_400_BAD_REQUEST,
            )
        url = absolute_url(reverse("finalphase:factsheet-pdf", args=[ch.workshop.slug, ch.slug]))
        return Response({"team": sheet.team.name, "url": url})


class ResultsExportView(APIView):
    permission_classes = [permissions.AllowAny]  # public once released, as its page

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(str, description="The ranked results as CSV."),
            (200, "application/x-tex"): OpenApiResponse(
                str, description="The ranked results as a LaTeX table."
            ),
            403: error_response(403, "The final results are not released yet."),
        },
        summary="The ranked final results, CSV or LaTeX (as the results page exports them)",
    )
    def get(self, request, workshop, challenge, fmt):
        ch = _challenge(request, workshop, challenge)
        if not request.user.has_perm("finalphase.view_leaderboard", ch):
            raise PermissionDenied("The final results are not released yet.")
        content, content_type, filename = selectors.results_export(challenge=ch, fmt=fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


urlpatterns = [
    path("<slug:workshop>/<slug:challenge>/submissions/", SubmissionListCreate.as_view(), name="submissions"),
    path(
        "<slug:workshop>/<slug:challenge>/submissions/<uuid:pk>/",
        SubmissionDetail.as_view(),
        name="submission",
    ),
    path("<slug:workshop>/<slug:challenge>/leaderboard/", Leaderboard.as_view(), name="leaderboard"),
    path("<slug:workshop>/<slug:challenge>/factsheet/", FactSheetView.as_view(), name="factsheet"),
    path(
        "<slug:workshop>/<slug:challenge>/results.csv",
        ResultsExportView.as_view(),
        {"fmt": "csv"},
        name="results-csv",
    ),
    path(
        "<slug:workshop>/<slug:challenge>/results.tex",
        ResultsExportView.as_view(),
        {"fmt": "tex"},
        name="results-tex",
    ),
]
