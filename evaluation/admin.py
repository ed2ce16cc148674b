"""Admin of evaluation: devices (group twins, enable/disable), device hosts (revoke, operators), runtime
jobs."""

from django.contrib import admin

from .models import Device, DeviceHost, RuntimeJob


@admin.register(DeviceHost)
class DeviceHostAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "last_seen", "address"]
    list_filter = ["enabled"]
    readonly_fields = ["created_at", "last_seen", "address"]
    filter_horizontal = ["operators"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "platform",
        "soc",
        "transport",
        "host",
        "group",
        "status",
        "operator_state",
        "last_heartbeat",
        "enabled",
    ]
    list_filter = ["platform", "transport", "status", "operator_state", "enabled"]
    list_editable = ["group", "enabled"]
    search_fields = ["slug", "name", "soc", "host"]
    # Pause, drain and resume go through the service (a drain settles itself): the lab page and the API.
    readonly_fields = [
        "last_heartbeat",
        "details",
        "created_at",
        "operator_state",
        "operator_state_changed_at",
    ]


@admin.register(RuntimeJob)
class RuntimeJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "model_name",
        "owner",
        "purpose",
        "device",
        "accelerator",
        "state",
        "attempts",
        "mean_ms",
        "peak_memory_mb",
        "created_at",
    ]
    list_filter = ["state", "purpose", "device", "accelerator"]
    search_fields = ["model_name", "owner__email", "uid"]
    raw_id_fields = ["owner"]
    readonly_fields = [f.name for f in RuntimeJob._meta.fields if f.name not in ("state",)]
