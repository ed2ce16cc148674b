"""REST API of evaluation, under /api/evaluation/ (documented at /api/schema/ and /api/docs/).

Participants (token or session auth): `GET devices/`, `GET/POST jobs/`, `GET jobs/<uid>/`.
Device hosts (`Authorization: Device <token>`): `POST hosts/register/`, `POST hosts/heartbeat/`,
`POST hosts/jobs/<uid>/claim/` (takes, or with `renew` extends, the device's lease),
`POST hosts/jobs/<uid>/report/`, `POST hosts/jobs/<uid>/release/`.
Model download for a device: `GET jobs/<uid>/model/?t=…&s=…` (a signed, expiring URL; no other auth).
"""

from django.contrib.auth.models import AnonymousUser
from django.http import FileResponse, Http404
from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.uploads import UploadLimitedMixin

from . import selectors, services
from .models import Device, DeviceHost, RuntimeJob
from .runners.base import Accelerator
from .tokens import model_download_valid

app_name = "evaluation-api"


# --- Serializers -----------------------------------------------------------------------------------


class DeviceSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    queue_length = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = [
            "slug",
            "name",
            "platform",
            "soc",
            "accelerators",
            "transport",
            "group",
            "status",
            "last_heartbeat",
            "queue_length",
        ]

    def get_status(self, device) -> str:
        return getattr(device, "effective_status", device.status)

    def get_queue_length(self, device) -> int:
        return getattr(device, "queue_length", 0)


class RuntimeJobSerializer(serializers.ModelSerializer):
    device = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    queue_position = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    input_shape = serializers.CharField(
        source="input_shape_display", read_only=True, help_text='The shape that ran, e.g. "1×224×224×3".'
    )

    class Meta:
        model = RuntimeJob
        fields = [
            "uid",
            "url",
            "model_name",
            "model_size",
            "device",
            "accelerator",
            "options",
            "input_shapes",
            "input_shape",
            "state",
            "queue_position",
            "attempts",
            "init_ms",
            "first_inference_ms",
            "mean_ms",
            "median_ms",
            "std_ms",
            "min_ms",
            "max_ms",
            "peak_memory_mb",
            "fully_delegated",
            "runs",
            "runtime_version",
            "error_message",
            "raw_log",
            "model_info",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_queue_position(self, job) -> int | None:
        return selectors.runtime_job_queue_position(job=job)

    def get_url(self, job) -> str:
        request = self.context.get("request")
        url = job.get_absolute_url()
        return request.build_absolute_uri(url) if request else url


class RuntimeJobCreateSerializer(serializers.Serializer):
    model = serializers.FileField(help_text="The .tflite file.")
    device = serializers.SlugField(help_text="A device slug from /api/evaluation/devices/.")
    accelerator = serializers.ChoiceField(choices=Accelerator.ALL)
    threads = serializers.IntegerField(required=False, min_value=1, max_value=8)
    warmup_runs = serializers.IntegerField(required=False, min_value=1, max_value=100)
    timed_runs = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    input_shape = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The shape to run inputs with free dimensions at, e.g. 1x480x720x3 (or 1×480×720×3; "
        "several inputs separated by “;”). A dynamic batch runs at 1.",
    )


# --- Participants ----------------------------------------------------------------------------------


class DeviceListView(APIView):
    @extend_schema(responses=DeviceSerializer(many=True), summary="Devices and what each can run")
    def get(self, request):
        return Response(DeviceSerializer(selectors.device_list(), many=True).data)


class RuntimeJobListView(UploadLimitedMixin, APIView):
    serializer_class = RuntimeJobSerializer
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(responses=RuntimeJobSerializer(many=True), summary="Your runtime checks, newest first")
    def get(self, request):
        jobs = selectors.runtime_job_list_for_user(user=request.user)[:100]
        return Response(RuntimeJobSerializer(jobs, many=True, context={"request": request}).data)

    def upload_limits(self, request, *args, **kwargs) -> int:
        return selectors.max_model_bytes()

    def upload_refusal(self, request, message: str) -> str:
        return selectors.too_big_message(int(request.META.get("CONTENT_LENGTH") or 0))

    @extend_schema(
        request={"multipart/form-data": RuntimeJobCreateSerializer},
        responses={
            201: RuntimeJobSerializer,
            400: inline_serializer(
                "RuntimeJobErrors", {"errors": serializers.ListField(child=serializers.CharField())}
            ),
            413: None,
            429: None,
        },
        summary="Check a model's runtime on a device",
    )
    def post(self, request):
        self.check_upload_complete(request)
        form = RuntimeJobCreateSerializer(data=request.data)
        if not form.is_valid():
            return Response(
                {"errors": [f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items()]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = form.validated_data
        try:
            job = services.runtime_job_create(
                owner=request.user,
                model_file=data["model"],
                device=data["device"],
                accelerator=data["accelerator"],
                options={
                    k: data[k] for k in ("threads", "warmup_runs", "timed_runs", "input_shape") if k in data
                },
            )
        except services.RateLimited as exc:
            return Response({"errors": exc.messages}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        except services.RuntimeJobRefused as exc:
            return Response({"errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            RuntimeJobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class RuntimeJobDetailView(APIView):
    @extend_schema(
        responses=RuntimeJobSerializer, summary="One runtime check: state, queue position, results"
    )
    def get(self, request, uid):
        job = selectors.runtime_job_get(uid=uid)
        if job is None or not request.user.has_perm("evaluation.view_runtimejob", job):
            raise Http404
        return Response(RuntimeJobSerializer(job, context={"request": request}).data)


# --- Device hosts ----------------------------------------------------------------------------------


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Device <token>`: the token `manage.py device_token <host>` prints."""

    keyword = "Device"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed device token header.")
        host = services.device_host_from_token(token=header[1])
        if host is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked device token.")
        return AnonymousUser(), host

    def authenticate_header(self, request):
        return self.keyword


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "evaluation.api.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <token>`, the token `manage.py device_token HOST` prints.",
        }


class IsDeviceHost(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, DeviceHost)


class DeviceHostView(APIView):
    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDeviceHost]

    def address(self, request) -> str:
        return request.META.get("REMOTE_ADDR", "")


class DeviceInfoSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(max_length=200)
    platform = serializers.CharField(max_length=20)
    soc = serializers.CharField(max_length=200, allow_blank=True)
    transport = serializers.ChoiceField(choices=Device.Transport.choices)
    accelerators = serializers.ListField(child=serializers.CharField())
    details = serializers.DictField(required=False)


class RegisterView(DeviceHostView):
    @extend_schema(
        request=inline_serializer("DeviceRegistration", {"devices": DeviceInfoSerializer(many=True)}),
        responses=DeviceSerializer(many=True),
        summary="A device host registers its devices",
    )
    def post(self, request):
        form = DeviceInfoSerializer(data=request.data.get("devices", []), many=True)
        form.is_valid(raise_exception=True)
        devices = [
            services.device_register(host=request.auth, info=info, address=self.address(request))
            for info in form.validated_data
        ]
        return Response(DeviceSerializer(devices, many=True).data)


class HeartbeatView(DeviceHostView):
    @extend_schema(
        request=inline_serializer(
            "Heartbeat", {"devices": serializers.ListField(child=serializers.SlugField())}
        ),
        responses=inline_serializer("HeartbeatSeen", {"seen": serializers.IntegerField()}),
        summary="A device host says its devices are alive",
    )
    def post(self, request):
        slugs = [str(s) for s in request.data.get("devices", [])][:100]
        seen = services.device_heartbeat(host=request.auth, slugs=slugs, address=self.address(request))
        return Response({"seen": seen})


class ClaimView(DeviceHostView):
    """Claims a job for a device and takes the device's lease; with `renew` (the attempt number), the
    worker running that attempt extends its lease instead."""

    @extend_schema(
        request=inline_serializer(
            "Claim",
            {
                "device": serializers.SlugField(),
                "worker": serializers.CharField(required=False),
                "holder": serializers.CharField(required=False),
                "dead_holder": serializers.CharField(required=False),
                "renew": serializers.IntegerField(required=False),
            },
        ),
        responses=inline_serializer(
            "ClaimAnswer",
            {
                "run": serializers.BooleanField(),
                "attempt": serializers.IntegerField(),
                "model_url": serializers.CharField(),
                "lease_s": serializers.FloatField(),
                "busy": serializers.BooleanField(),
                "retry_in": serializers.FloatField(),
                "holder": serializers.CharField(),
                "renewed": serializers.BooleanField(),
            },
        ),
        summary="A device starts a job (takes the device's lease); returns a signed model URL, or run=false",
    )
    def post(self, request, uid):
        device = str(request.data.get("device", ""))
        if request.data.get("renew") is not None:
            try:
                attempt = int(request.data["renew"])
            except (TypeError, ValueError):
                raise exceptions.ValidationError({"renew": "must be the attempt number"}) from None
            renewed = services.runtime_job_lease_renew(
                uid=uid, host=request.auth, device_slug=device, attempt=attempt
            )
            return Response({"renewed": renewed})
        answer = services.runtime_job_claim(
            uid=uid,
            host=request.auth,
            device_slug=device,
            worker=str(request.data.get("worker", "")),
            holder=str(request.data.get("holder", "")),
            dead_holder=str(request.data.get("dead_holder", "")),
        )
        return Response(answer)


class ReportView(DeviceHostView):
    @extend_schema(
        request=inline_serializer(
            "Report",
            {
                "attempt": serializers.IntegerField(),
                "result": serializers.DictField(required=False),
                "error": serializers.CharField(required=False),
                "log": serializers.CharField(required=False),
            },
        ),
        responses=inline_serializer("ReportAnswer", {"recorded": serializers.BooleanField()}),
        summary="A device reports a job's result or error (idempotent)",
    )
    def post(self, request, uid):
        data = request.data
        result = data.get("result")
        if result is not None and not isinstance(result, dict):
            raise exceptions.ValidationError({"result": "must be an object"})
        recorded = services.runtime_job_report(
            uid=uid,
            host=request.auth,
            attempt=data.get("attempt"),
            result=result,
            error=str(data.get("error") or ""),
            log=str(data.get("log") or ""),
        )
        return Response({"recorded": recorded})


class ReleaseView(DeviceHostView):
    @extend_schema(
        request=inline_serializer(
            "Release",
            {
                "reason": serializers.CharField(required=False),
                "attempt": serializers.IntegerField(required=False),
            },
        ),
        responses=inline_serializer("ReleaseAnswer", {"released": serializers.BooleanField()}),
        summary="A device gives a job back (the device went away); it will be retried",
    )
    def post(self, request, uid):
        attempt = request.data.get("attempt")
        released = services.runtime_job_release(
            uid=uid,
            host=request.auth,
            reason=str(request.data.get("reason", "")),
            attempt=int(attempt) if str(attempt or "").isdigit() else None,
        )
        return Response({"released": released})


class ModelDownloadView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("t", str), OpenApiParameter("s", str)],
        responses={(200, "application/octet-stream"): bytes},
        summary="Signed model download",
    )
    def get(self, request, uid):
        if not model_download_valid(str(uid), request.GET.get("t", ""), request.GET.get("s", "")):
            return Response(
                {"detail": "This download link is invalid or has expired."}, status=status.HTTP_403_FORBIDDEN
            )
        job = selectors.runtime_job_get(uid=uid, with_device=False)
        if job is None:
            raise Http404
        return FileResponse(
            job.model_file.open("rb"),
            as_attachment=True,
            filename="model.tflite",
            content_type="application/octet-stream",
        )


urlpatterns = [
    path("devices/", DeviceListView.as_view(), name="device-list"),
    path("jobs/", RuntimeJobListView.as_view(), name="job-list"),
    path("jobs/<uuid:uid>/", RuntimeJobDetailView.as_view(), name="job-detail"),
    path("jobs/<uuid:uid>/model/", ModelDownloadView.as_view(), name="job-model"),
    path("hosts/register/", RegisterView.as_view(), name="host-register"),
    path("hosts/heartbeat/", HeartbeatView.as_view(), name="host-heartbeat"),
    path("hosts/jobs/<uuid:uid>/claim/", ClaimView.as_view(), name="host-claim"),
    path("hosts/jobs/<uuid:uid>/report/", ReportView.as_view(), name="host-report"),
    path("hosts/jobs/<uuid:uid>/release/", ReleaseView.as_view(), name="host-release"),
]
