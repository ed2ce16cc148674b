"""REST API of evaluation, under /api/evaluation/ (documented at /api/schema/ and /api/docs/).

Participants (token or session auth): `GET devices/`, `GET/POST jobs/`, `GET jobs/<uid>/`.
Device operators (their host's devices) and superusers: `POST devices/<slug>/pause|drain|resume/`.
Device hosts (`Authorization: Device <token>`): `POST hosts/register/`, `POST hosts/heartbeat/`,
`POST hosts/jobs/<uid>/claim/` (takes, or with `renew` extends, the device's lease),
`POST hosts/jobs/<uid>/report/`, `POST hosts/jobs/<uid>/release/`.
Model download for a device: `GET jobs/<uid>/model/?t=…&s=…` (a signed, expiring URL; no other auth).
"""

import json

from django.contrib.auth.models import AnonymousUser
from django.http import FileResponse, Http404
from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.uploads import UploadLimitedMixin
from config.api_errors import error_payload, error_response, errors

from . import selectors, services
from .models import Device, DeviceHost, RuntimeJob
from .runners.base import Accelerator
from .tokens import model_download_valid

app_name = "evaluation-api"


# --- Serializers -----------------------------------------------------------------------------------


class DeviceSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    queue_length = serializers.SerializerMethodField()
    operator_state = serializers.ChoiceField(
        choices=Device.OperatorState.choices,
        read_only=True,
        help_text="active; paused (takes no job); draining (runs what was queued before, then pauses).",
    )

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
            "operator_state",
            "operator_state_changed_at",
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
            "p5_ms",
            "p95_ms",
            "ci95_low_ms",
            "ci95_high_ms",
            "throttled",
            "power_w",
            "energy_mj",
            "repetitions",
            "profile",
            "power",
            "reproducibility",
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
    repetitions = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=10,
        help_text="How many times the timed runs are repeated, with a cool-down between (default 1).",
    )
    profile = serializers.BooleanField(
        required=False, default=True, help_text="Time each operator after the timed runs (default true)."
    )
    input_shape = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The shape to run inputs with free dimensions at, e.g. 1x480x720x3 (or 1×480×720×3; "
        "several inputs separated by “;”). A dynamic batch runs at 1.",
    )


# --- Participants ----------------------------------------------------------------------------------


class DeviceListView(APIView):
    permission_classes = [permissions.AllowAny]  # public, as the devices page

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
            400: error_response(400, "The model or options were refused: `errors` says why."),
            429: error_response(429, "Too many runtime checks: the limit and when to retry are in `detail`."),
        },
        summary="Check a model's runtime on a device",
    )
    def post(self, request):
        self.check_upload_complete(request)
        form = RuntimeJobCreateSerializer(data=request.data)
        if not form.is_valid():
            return Response(
                error_payload([f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items()]),
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
                    k: data[k]
                    for k in ("threads", "warmup_runs", "timed_runs", "repetitions", "profile", "input_shape")
                    if k in data
                },
            )
        except services.RateLimited as exc:
            return Response(
                error_payload(exc.messages, code="throttled"), status=status.HTTP_429_TOO_MANY_REQUESTS
            )
        except services.RuntimeJobRefused as exc:
            return Response(error_payload(exc.messages), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            RuntimeJobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class RuntimeJobDetailView(APIView):
    @extend_schema(
        responses={200: RuntimeJobSerializer, **errors(404)},
        summary="One runtime check: state, queue position, results",
    )
    def get(self, request, uid):
        job = selectors.runtime_job_get(uid=uid)
        if job is None or not request.user.has_perm("evaluation.view_runtimejob", job):
            raise Http404
        return Response(RuntimeJobSerializer(job, context={"request": request}).data)


# --- Device operators ------------------------------------------------------------------------------


class DeviceOperatorStateView(APIView):
    """`POST devices/<slug>/pause|drain|resume/`: operators of the device's host and superusers; the
    answer is the device as `GET devices/` shows it, with its new `operator_state`."""

    target_state = ""

    @extend_schema(request=None, responses={200: DeviceSerializer, **errors(404)})
    def post(self, request, slug):
        device = selectors.device_get(slug=slug)
        if device is None or not request.user.has_perm("evaluation.operate_device", device):
            raise Http404
        try:
            services.device_operator_state_set(device=device, state=self.target_state)
        except services.DeviceOperatorRefused as exc:
            return Response(error_payload(exc.messages), status=status.HTTP_400_BAD_REQUEST)
        return Response(DeviceSerializer(selectors.device_list_item(slug=slug)).data)


class DevicePauseView(DeviceOperatorStateView):
    target_state = Device.OperatorState.PAUSED

    @extend_schema(request=None, responses={200: DeviceSerializer, **errors(404)}, summary="Pause a device")
    def post(self, request, slug):
        return super().post(request, slug)


class DeviceDrainView(DeviceOperatorStateView):
    target_state = Device.OperatorState.DRAINING

    @extend_schema(
        request=None,
        responses={200: DeviceSerializer, **errors(404)},
        summary="Drain a device: finish the jobs already queued, take no new one, then pause",
    )
    def post(self, request, slug):
        return super().post(request, slug)


class DeviceResumeView(DeviceOperatorStateView):
    target_state = Device.OperatorState.ACTIVE

    @extend_schema(
        request=None, responses={200: DeviceSerializer, **errors(404)}, summary="Resume a paused device"
    )
    def post(self, request, slug):
        return super().post(request, slug)


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


def _text(value) -> str:
    """A device host's string as the database can hold it: no NUL, no lone surrogate."""
    return str(value if value is not None else "").replace("\x00", "").encode("utf-8", "replace").decode()


def _json_safe(value, key: str):
    """A JSON value the database can store (PostgreSQL's jsonb takes no NUL and no lone surrogate)."""
    if "\\u0000" in json.dumps(value):
        raise exceptions.ValidationError({key: "must not contain NUL characters"})
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise exceptions.ValidationError({key: "must be valid Unicode text"}) from None
    return value


def _json_object(request) -> dict:
    """A device host's request body, which is a JSON object (400 otherwise)."""
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError("Send a JSON object.")
    return request.data


def _optional_int(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise exceptions.ValidationError({key: "must be a whole number"})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise exceptions.ValidationError({key: "must be a whole number"}) from None


class IsDeviceHost(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, DeviceHost)


class DeviceHostView(APIView):
    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDeviceHost]
    parser_classes = [parsers.JSONParser]  # device hosts send JSON objects (evaluation/device_client.py)
    # Said (401) to a request without a device token, e.g. one with a person's API token.
    not_authenticated_message = (
        "This endpoint needs a device-host token: send `Authorization: Device <token>` (the token "
        "`manage.py device_token HOST` prints); a person's API token or session is not accepted here."
    )

    def address(self, request) -> str:
        return request.META.get("REMOTE_ADDR", "")


class DeviceInfoSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(max_length=200)
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    soc = serializers.CharField(max_length=200, allow_blank=True)
    transport = serializers.ChoiceField(choices=Device.Transport.choices)
    accelerators = serializers.ListField(child=serializers.CharField())
    details = serializers.DictField(required=False)

    def validate_details(self, value):
        return _json_safe(value, "details")


class RegisterView(DeviceHostView):
    @extend_schema(
        request=inline_serializer("DeviceRegistration", {"devices": DeviceInfoSerializer(many=True)}),
        responses={
            200: DeviceSerializer(many=True),
            409: error_response(
                409, "A slug belongs to a device another host drives; nothing was registered."
            ),
        },
        summary="A device host registers its devices",
    )
    def post(self, request):
        form = DeviceInfoSerializer(data=_json_object(request).get("devices", []), many=True)
        form.is_valid(raise_exception=True)
        try:
            devices = services.devices_register(
                host=request.auth, infos=list(form.validated_data), address=self.address(request)
            )
        except services.DeviceOwnedByAnotherHost as refused:
            return Response(
                error_payload(refused.messages, code="device_owned_by_another_host"),
                status=status.HTTP_409_CONFLICT,
            )
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
        devices = _json_object(request).get("devices") or []
        if not isinstance(devices, list):
            raise exceptions.ValidationError({"devices": "a list of device slugs"})
        slugs = [_text(s) for s in devices][:100]
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
                "run": serializers.BooleanField(required=False),
                "attempt": serializers.IntegerField(required=False),
                "model_url": serializers.CharField(required=False),
                "lease_s": serializers.FloatField(required=False),
                "busy": serializers.BooleanField(required=False),
                "retry_in": serializers.FloatField(required=False),
                "holder": serializers.CharField(required=False),
                "renewed": serializers.BooleanField(required=False),
            },
        ),
        summary="A device starts a job (takes the device's lease); returns a signed model URL, or run=false",
    )
    def post(self, request, uid):
        data = _json_object(request)
        device = _text(data.get("device", ""))
        if data.get("renew") is not None:
            attempt = _optional_int(data, "renew")
            renewed = services.runtime_job_lease_renew(
                uid=uid, host=request.auth, device_slug=device, attempt=attempt
            )
            return Response({"renewed": renewed})
        answer = services.runtime_job_claim(
            uid=uid,
            host=request.auth,
            device_slug=device,
            worker=_text(data.get("worker", "")),
            holder=_text(data.get("holder", "")),
            dead_holder=_text(data.get("dead_holder", "")),
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
        data = _json_object(request)
        result = data.get("result")
        if result is not None and not isinstance(result, dict):
            raise exceptions.ValidationError({"result": "must be an object"})
        _json_safe(result, "result")
        recorded = services.runtime_job_report(
            uid=uid,
            host=request.auth,
            attempt=_optional_int(data, "attempt"),
            result=result,
            error=_text(data.get("error") or ""),
            log=_text(data.get("log") or ""),
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
        data = _json_object(request)
        released = services.runtime_job_release(
            uid=uid,
            host=request.auth,
            reason=_text(data.get("reason", "")),
            attempt=_optional_int(data, "attempt"),  # "²" passes isdigit() but not int(): a clear 400
        )
        return Response({"released": released})


class ModelDownloadView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("t", str), OpenApiParameter("s", str)],
        responses={
            (200, "application/octet-stream"): bytes,
            403: error_response(403, "The download link is invalid or has expired."),
        },
        summary="Signed model download",
    )
    def get(self, request, uid):
        if not model_download_valid(str(uid), request.GET.get("t", ""), request.GET.get("s", "")):
            raise exceptions.PermissionDenied("This download link is invalid or has expired.")
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
    path("devices/<slug:slug>/pause/", DevicePauseView.as_view(), name="device-pause"),
    path("devices/<slug:slug>/drain/", DeviceDrainView.as_view(), name="device-drain"),
    path("devices/<slug:slug>/resume/", DeviceResumeView.as_view(), name="device-resume"),
    path("jobs/", RuntimeJobListView.as_view(), name="job-list"),
    path("jobs/<uuid:uid>/", RuntimeJobDetailView.as_view(), name="job-detail"),
    path("jobs/<uuid:uid>/model/", ModelDownloadView.as_view(), name="job-model"),
    path("hosts/register/", RegisterView.as_view(), name="host-register"),
    path("hosts/heartbeat/", HeartbeatView.as_view(), name="host-heartbeat"),
    path("hosts/jobs/<uuid:uid>/claim/", ClaimView.as_view(), name="host-claim"),
    path("hosts/jobs/<uuid:uid>/report/", ReportView.as_view(), name="host-report"),
    path("hosts/jobs/<uuid:uid>/release/", ReleaseView.as_view(), name="host-release"),
]
