"""Admin of the final phase (organisers' everyday work has its own pages under …/final/)."""

from django import forms
from django.contrib import admin, messages

from console.admin_zone import WorkshopZoneAdminMixin

from .forms import FinalSettingsForm
from .formula import FormulaError, formula_validate
from .models import CodeSubmission, FactSheet, FinalPhaseSettings, ModelSubmission
from .services import scores


class FinalPhaseSettingsAdminForm(forms.ModelForm):
    class Meta:
        model = FinalPhaseSettings
        fields = ["challenge", *FinalSettingsForm.Meta.fields]  # the organisers' form, plus its track

    def clean(self):
        data = super().clean()
        try:
            formula_validate(data.get("score_formula", ""), constants=data.get("constants") or {})
        except FormulaError as exc:
            self.add_error("score_formula", exc.message)
        return data


@admin.register(FinalPhaseSettings)
class FinalPhaseSettingsAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    form = FinalPhaseSettingsAdminForm
    list_display = ["challenge", "score_formula", "counting_policy", "device_slug", "accelerator"]
    actions = ["recompute"]

    @admin.action(description="Recompute every score of the selected challenges")
    def recompute(self, request, queryset):
        count = sum(scores.scores_recompute(challenge=s.challenge, settings=s) for s in queryset)
        messages.success(request, f"{count} score(s) recomputed.")

    def save_model(self, request, obj, form, change):
        # Through the service: the formula is validated and every score recomputed.
        fields = {f: getattr(obj, f) for f in form.changed_data}
        if change:
            scores.final_settings_update(challenge=obj.challenge, **fields)
        else:
            super().save_model(request, obj, form, change)


@admin.register(ModelSubmission)
class ModelSubmissionAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    list_display = ["team", "challenge", "status", "fidelity_status", "runtime_status", "score", "created_at"]
    zone_list_fields = ("created_at",)
    list_filter = ["challenge", "status"]
    readonly_fields = [
        "public_id",
        "model_sha256",
        "model_info",
        "metrics",
        "runtime_job_id",
        "runtime_ms",
        "memory_mb",
        "power_w",
        "score",
        "score_error",
        "created_at",
        "finished_at",
    ]


@admin.register(FactSheet)
class FactSheetAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    list_display = ["team_name", "challenge", "method_title", "updated_at"]
    zone_list_fields = ("updated_at",)
    list_filter = ["challenge"]


@admin.register(CodeSubmission)
class CodeSubmissionAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    list_display = ["team", "challenge", "archive_name", "repository_url", "updated_at"]
    zone_list_fields = ("updated_at",)
    list_filter = ["challenge"]
