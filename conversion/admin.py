"""Admin of conversion: conversions (read-only report fields) and the tracks' calibration sets."""

from django.contrib import admin

from .models import CalibrationSet, Conversion


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    list_display = ["source_name", "owner", "challenge", "output_kind", "state", "created_at"]
    list_filter = ["state", "output_kind", "source_format"]
    readonly_fields = [f.name for f in Conversion._meta.fields]


@admin.register(CalibrationSet)
class CalibrationSetAdmin(admin.ModelAdmin):
    list_display = ["challenge", "original_name", "samples", "created_at"]
    readonly_fields = ["samples", "sample_shape", "created_at"]
