"""Forms of the organiser console: the track, its metrics (a small formset), scoring (formula,
constants, device and accelerator), the model contract and its reference model, and the milestones,
entered in the workshop's time zone."""

import datetime as dt
import zoneinfo

from django import forms
from django.forms import formset_factory

from evaluation.models import Device
from evaluation.runners.base import Accelerator
from evaluation.tflite import ShapeError, format_shape, parse_shape

from ..finalphase.forms import ConstantsField
from ..models import Challenge
from . import milestones as milestone_rules
from .selectors import milestone_label

TRACK_FIELDS = [
    "title",
    "summary",
    "target_platform",
    "description",
    "result_format",
    "per_file_scores",
    "score_formula",
    "requires_approval",
    "max_team_size",
    "submissions_per_day",
    "submissions_total",
    "leaderboard_policy",
    "grace_minutes",
    "max_upload_mb",
    "terms",
]


class TrackForm(forms.ModelForm):
    class Meta:
        model = Challenge
        fields = TRACK_FIELDS
        labels = {
            "summary": "Task in one line",
            "description": "Description (Markdown)",
            "target_platform": "Target platform as shown",
            "per_file_scores": "Validation per-file breakdown",
            "score_formula": "Score formula as shown to participants",
            "submissions_per_day": "Validation submissions per day",
            "submissions_total": "Validation submissions in total",
            "max_upload_mb": "Largest result upload (MB)",
            "terms": "Terms (Markdown)",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "terms": forms.Textarea(attrs={"rows": 4}),
        }


class NewTrackForm(TrackForm):
    slug = forms.SlugField(
        required=False, help_text="The track's address; made from the title when left empty."
    )

    class Meta(TrackForm.Meta):
        fields = ["title", "slug", *TRACK_FIELDS[1:]]


class MetricForm(forms.Form):
    key = forms.CharField(max_length=20, label="Key", help_text="psnr, ssim, si_rmse, rmse, top1, top3…")
    label = forms.CharField(max_length=40, required=False)
    higher_is_better = forms.TypedChoiceField(
        choices=[("1", "Higher is better"), ("0", "Lower is better")],
        coerce=lambda v: v == "1",
        label="Direction",
    )
    precision = forms.IntegerField(min_value=0, max_value=8, initial=4, label="Decimals")


MetricFormSet = formset_factory(MetricForm, extra=1, can_delete=True, max_num=8)


def metrics_initial(metrics: list[dict]) -> list[dict]:
    return [
        {
            "key": m.get("key"),
            "label": m.get("label"),
            "higher_is_better": "1" if m.get("higher_is_better") else "0",
            "precision": m.get("precision", 4),
        }
        for m in metrics or []
    ]


def metrics_from(formset) -> list[dict]:
    return [
        {k: form.cleaned_data[k] for k in ("key", "label", "higher_is_better", "precision")}
        for form in formset.forms
        if form.cleaned_data and form.cleaned_data.get("key") and not form.cleaned_data.get("DELETE")
    ]


class ScoringForm(forms.Form):
    score_formula = forms.CharField(
        max_length=500,
        label="Score formula (computed)",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        help_text="Over psnr, ssim, accuracy_top1, accuracy_top3, si_rmse, rmse, runtime_ms, memory_mb, "
        "power_w, energy_mj and your constants; + - * / ** log exp sqrt min max.",
    )
    constants = ConstantsField(required=False, help_text="One per line, e.g. C = 1.5")
    device_slug = forms.ChoiceField(label="Target device", help_text="Runtime is measured on this device.")
    accelerator = forms.ChoiceField(choices=[(a, Accelerator.LABELS[a]) for a in Accelerator.ALL])

    def __init__(self, *args, current: tuple[str, str] | None = None, **kwargs):
        """`current`: the track's (device slug, accelerator) now, offered even while that device has
        not registered (a device host registers when its worker first starts)."""
        super().__init__(*args, **kwargs)
        devices = list(Device.objects.filter(enabled=True).order_by("name"))
        choices = [(d.slug, f"{d.name} ({d.slug})") for d in devices]
        offered = [f"{d.slug}:{','.join(d.accelerators or [])}" for d in devices]
        if current and current[0] and current[0] not in {d.slug for d in devices}:
            choices.append((current[0], f"{current[0]} (not registered yet)"))
            offered.append(f"{current[0]}:{current[1]}")
            self.fields["device_slug"].help_text = (
                f"Runtime is measured on this device. “{current[0]}” has not registered yet: its runtime "
                "jobs wait until its host's worker starts."
            )
        self.fields["device_slug"].choices = choices
        # The accelerator select offers the chosen device's accelerators (static/js/console_track.js).
        self.fields["device_slug"].widget.attrs["data-accelerators"] = "|".join(offered)


class ShapeField(forms.CharField):
    """A shape typed as 1x544x960x4 (or 1×544×960×4, or [1, 544, 960, 4])."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return format_shape(value).replace("×", "x") if value else ""
        return value

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return []
        if "?" in value:
            raise forms.ValidationError(
                "Give the size the track measures at in place of each “?” (e.g. 1x480x720x3)."
            )
        try:
            return parse_shape(value)
        except ShapeError as exc:
            raise forms.ValidationError(exc.message) from None


DTYPES = Challenge.DType.choices


class ContractForm(forms.Form):
    input_shape = ShapeField(required=False, help_text="e.g. 1x544x960x4")
    input_dtype = forms.ChoiceField(choices=DTYPES)
    output_shape = ShapeField(required=False, help_text="e.g. 1x1088x1920x3")
    output_dtype = forms.ChoiceField(choices=DTYPES)
    value_range_min = forms.FloatField(label="Input values from")
    value_range_max = forms.FloatField(label="Input values to")
    int8_required = forms.BooleanField(required=False, label="Full-integer INT8 required")


class ReferenceModelForm(forms.Form):
    reference_model = forms.FileField(
        label="Reference model (.tflite)", help_text="Its contract is read in the sandbox and fills the form."
    )


class MilestonesForm(forms.Form):
    """One field per milestone, typed as a date and time in the workshop's zone; empty clears it."""

    def __init__(self, *args, workshop, initial_times: dict[str, dt.datetime], **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(workshop.time_zone or "UTC")
        self.zone_name = workshop.time_zone or "UTC"
        self.initial_times = initial_times
        for kind in milestone_rules.MILESTONE_ORDER:
            at = initial_times.get(kind)
            self.fields[kind] = forms.DateTimeField(
                required=False,
                label=milestone_label(kind),
                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                initial=at.astimezone(self.zone).replace(tzinfo=None) if at else None,
            )

    def clean(self):
        data = super().clean()
        result = {}
        for kind in milestone_rules.MILESTONE_ORDER:
            value = data.get(kind)
            if value is None:
                result[kind] = None
                continue
            naive = value.replace(tzinfo=None)
            aware = naive.replace(tzinfo=self.zone)
            # A time the clocks skip (spring forward) does not exist in the zone: say so.
            round_trip = aware.astimezone(dt.UTC).astimezone(self.zone).replace(tzinfo=None)
            if round_trip != naive:
                self.add_error(
                    kind,
                    f"{naive:%H:%M} on {naive:%d %B %Y} does not exist in {self.zone_name} (clocks change).",
                )
                continue
            # The field shows minutes: a milestone stored with seconds that was left as shown is kept
            # as stored, not moved by the rounding.
            stored = self.initial_times.get(kind)
            if stored is not None and stored.astimezone(self.zone).replace(second=0, microsecond=0) == aware:
                aware = stored
            result[kind] = aware
        self.milestones = result
        return data
