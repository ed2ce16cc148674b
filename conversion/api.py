"""REST API of conversion, under /api/conversion/ (documented at /api/schema/ and /api/docs/).

`GET formats/` (what this site converts now), `GET/POST conversions/` (your conversions; multipart
upload with `model`, `output_kind`, and `track` (a challenge id) or `input_shape`/`output_shape`,
`dynamic_copy`), `GET conversions/<uid>/` (state, the report, download URLs), `POST
conversions/<uid>/check-runtime/` (a runtime check of the result on the track's device). The same rules and messages
as the pages (`services.conversion_create`)."""

from django.http import Http404
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.uploads import UploadLimitedMixin
from config.api_errors import error_payload, error_response, errors

from . import selectors, services
from .models import Conversion

app_name = "conversion-api"


class ConversionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    track = serializers.PrimaryKeyRelatedField(source="challenge", read_only=True)
    model_url = serializers.SerializerMethodField()
    dynamic_model_url = serializers.SerializerMethodField()

    class Meta:
        model = Conversion
        fields = [
            "uid",
            "url",
            "source_name",
            "source_format",
            "track",
            "output_kind",
            "dynamic_copy",
            "input_shape",
            "output_shape",
            "state",
            "error_message",
            "result_size",
            "model_info",
            "contract_problems",
            "delegate_report",
            "fidelity",
            "calibration_source",
            "model_url",
            "dynamic_model_url",
            "created_at",
            "finished_at",
        ]

    def _abs(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_url(self, conversion) -> str:
        return self._abs(conversion.get_absolute_url())

    def get_model_url(self, conversion) -> str | None:
        if conversion.state != Conversion.State.DONE:
            return None
        return self._abs(reverse("conversion:download", args=[conversion.uid]))

    def get_dynamic_model_url(self, conversion) -> str | None:
        if conversion.state != Conversion.State.DONE or not conversion.dynamic_file:
            return None
        return self._abs(reverse("conversion:download-dynamic", args=[conversion.uid]))


class ConversionCreateSerializer(serializers.Serializer):
    model = serializers.FileField()
    output_kind = serializers.ChoiceField(choices=Conversion.OutputKind.choices)
    track = serializers.IntegerField(
        required=False, help_text="A challenge id: its contract fixes the shapes."
    )
    input_shape = serializers.CharField(required=False, default="", allow_blank=True)
    output_shape = serializers.CharField(required=False, default="", allow_blank=True)
    dynamic_copy = serializers.BooleanField(required=False, default=False)


class FormatSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    suffixes = serializers.ListField(child=serializers.CharField())
    converter = serializers.CharField()
    available = serializers.BooleanField()
    why_not = serializers.CharField()


class FormatListView(APIView):
    @extend_schema(
        responses=FormatSerializer(many=True), summary="Model formats and whether they are converted now"
    )
    def get(self, request):
        return Response(FormatSerializer([f.__dict__ for f in selectors.source_formats()], many=True).data)


class ConversionListView(UploadLimitedMixin, APIView):
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(responses=ConversionSerializer(many=True), summary="Your conversions, newest first")
    def get(self, request):
        items = selectors.conversion_list_for_user(user=request.user)[:100]
        return Response(ConversionSerializer(items, many=True, context={"request": request}).data)

    def upload_limits(self, request, *args, **kwargs) -> int:
        return selectors.max_upload_bytes()

    @extend_schema(
        request={"multipart/form-data": ConversionCreateSerializer},
        responses={201: ConversionSerializer, 400: error_response(400, "Refused: `errors` says why.")},
        summary="Convert a model to TFLite",
    )
    def post(self, request):
        self.check_upload_complete(request)
        form = ConversionCreateSerializer(data=request.data)
        if not form.is_valid():
            return Response(
                error_payload([f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items()]),
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = form.validated_data
        challenge = None
        if data.get("track") is not None:
            challenge = selectors.track_get(pk=data["track"])
            if (
                challenge is None
                or not challenge.input_shape
                or challenge not in selectors.conversion_tracks(user=request.user)
            ):
                return Response(
                    error_payload([f"track: there is no track {data['track']} with a contract."]),
                    status=status.HTTP_400_BAD_REQUEST,
                )
        try:
            conversion = services.conversion_create(
                owner=request.user,
                upload=data["model"],
                output_kind=data["output_kind"],
                challenge=challenge,
                input_shape=data["input_shape"],
                output_shape=data["output_shape"],
                dynamic_copy=data["dynamic_copy"],
            )
        except services.ConversionRefused as exc:
            return Response(error_payload(exc.messages), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            ConversionSerializer(conversion, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ConversionDetailView(APIView):
    @extend_schema(
        responses={200: ConversionSerializer, **errors(404)}, summary="One conversion and its report"
    )
    def get(self, request, uid):
        conversion = selectors.conversion_get(uid=uid)
        if conversion is None or not request.user.has_perm("conversion.view_conversion", conversion):
            raise Http404
        return Response(ConversionSerializer(conversion, context={"request": request}).data)


class ConversionCheckRuntimeView(APIView):
    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "ConversionRuntimeJob", {"job": serializers.UUIDField(), "url": serializers.URLField()}
            ),
            **errors(400, 404),
        },
        summary="Send the converted model to a runtime check on the track's device",
    )
    def post(self, request, uid):
        from evaluation.services import RuntimeJobRefused

        conversion = selectors.conversion_get(uid=uid)
        if conversion is None or not request.user.has_perm("conversion.use_conversion", conversion):
            raise Http404
        try:
            job = services.conversion_check_runtime(conversion=conversion, user=request.user)
        except (RuntimeJobRefused, services.ConversionRefused) as exc:
            return Response(error_payload(exc.messages), status=status.HTTP_400_BAD_REQUEST)
        url = request.build_absolute_uri(reverse("evaluation-api:job-detail", args=[job.uid]))
        return Response({"job": str(job.uid), "url": url}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("formats/", FormatListView.as_view(), name="formats"),
    path("conversions/", ConversionListView.as_view(), name="conversions"),
    path("conversions/<uuid:uid>/", ConversionDetailView.as_view(), name="conversion"),
    path("conversions/<uuid:uid>/check-runtime/", ConversionCheckRuntimeView.as_view(), name="check-runtime"),
]
