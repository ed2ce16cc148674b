"""Forms of the final phase: model submission, fact sheet (with a member formset), code, and the
organisers' settings (formula and constants, policies). Validation that needs the database or the
clock lives in `services`; these check shape and size only."""

from django import forms

from evaluation.models import Device
from evaluation.runners.base import Accelerator

from .models import FinalPhaseSettings
from .services.factsheets import FACTSHEET_ATTACHMENT_MB


class ModelSubmissionForm(forms.Form):
    model = forms.FileField(label="model.tflite", help_text="The model measured on the target device.")
    dynamic_model = forms.FileField(
        label="Model with dynamic input size (optional)",
        required=False,
        help_text="Same network with None in the spatial input dimensions, for full-resolution fidelity runs.",
    )
    results = forms.FileField(
        label="Result files (optional)",
        required=False,
        help_text="A .zip/.npz/.csv of your outputs on the test inputs.",
    )
    method_name = forms.CharField(max_length=200, required=False)

    def clean_model(self):
        f = self.cleaned_data["model"]
        if not f.name.lower().endswith(".tflite"):
            raise forms.ValidationError("Upload the TensorFlow Lite model (a .tflite file).")
        return f

    def clean_dynamic_model(self):
        f = self.cleaned_data.get("dynamic_model")
        if f and not f.name.lower().endswith(".tflite"):
            raise forms.ValidationError("The dynamic-size model must be a .tflite file too.")
        return f


class FactSheetForm(forms.Form):
    team_name = forms.CharField(max_length=120)
    contact_name = forms.CharField(max_length=200)
    contact_email = forms.EmailField()
    method_title = forms.CharField(max_length=300)
    method_description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    architecture_training = forms.CharField(
        label="Architecture and training details", widget=forms.Textarea(attrs={"rows": 5})
    )
    training_data_hardware = forms.CharField(
        label="Training data and hardware", widget=forms.Textarea(attrs={"rows": 3})
    )
    runtime_observations = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything you observed about runtime on the target device.",
    )
    links = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One URL per line: code, paper, project page.",
    )
    attachment = forms.FileField(
        required=False,
        label="LaTeX or PDF version (optional)",
        help_text=f"A PDF, a .tex file or a .zip of the sources; at most {FACTSHEET_ATTACHMENT_MB} MB.",
    )


class MemberForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    affiliation = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)


MemberFormSet = forms.formset_factory(MemberForm, extra=0, max_num=20)


class CodeForm(forms.Form):
    archive = forms.FileField(
        required=False,
        label="Code archive",
        help_text="A .zip, .tar.gz or .7z of the code that reproduces your model.",
    )
    repository_url = forms.URLField(required=False, label="Or a repository URL", assume_scheme="https")


class ConstantsField(forms.CharField):
    """Constants as lines `C = 1.5`."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{k} = {v:g}" for k, v in value.items())
        return value

    def to_python(self, value):
        constants = {}
        for line in (value or "").splitlines():
            if not line.strip():
                continue
            name, sep, number = line.partition("=")
            try:
                if not sep:
                    raise ValueError
                constants[name.strip()] = float(number)
            except ValueError:
                raise forms.ValidationError(f"“{line.strip()}” is not of the form NAME = number.") from None
        return constants


class FinalSettingsForm(forms.ModelForm):
    constants = ConstantsField(required=False, help_text="One per line, e.g. C = 1.5")
    device_slug = forms.ChoiceField(label="Target device", help_text="Runtime is measured on this device.")
    accelerator = forms.ChoiceField(choices=[(a, Accelerator.LABELS[a]) for a in Accelerator.ALL])

    class Meta:
        model = FinalPhaseSettings
        fields = [
            "score_formula",
            "constants",
            "counting_policy",
            "show_own_results_early",
            "public_after_workshop",
            "requires_dynamic_model",
            "fidelity_input_shape",
            "device_slug",
            "accelerator",
            "threads",
            "timed_runs",
            "fidelity_time_limit_s",
            "max_submissions",
            "max_model_mb",
            "max_code_mb",
        ]
        labels = {
            "show_own_results_early": "Teams see their own numbers before the release",
            "public_after_workshop": "Public after the workshop",
            "requires_dynamic_model": "Dynamic-size model required",
            "fidelity_input_shape": "Fidelity input shape",
            "timed_runs": "Timed runs per measurement",
            "fidelity_time_limit_s": "Fidelity time limit (s)",
            "max_submissions": "Submissions per team",
            "max_model_mb": "Largest model (MB)",
            "max_code_mb": "Largest code archive (MB)",
        }
        widgets = {
            "fidelity_input_shape": forms.TextInput(attrs={"placeholder": "[1, 1088, 1920, 4]"}),
            "score_formula": forms.TextInput(attrs={"spellcheck": "false"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(d.slug, f"{d.name} ({d.slug})") for d in Device.objects.filter(enabled=True)]
        current = self.instance.device_slug if self.instance else ""
        if current and current not in {slug for slug, _ in choices}:
            choices.insert(0, (current, f"{current} (not registered yet)"))
        self.fields["device_slug"].choices = choices

    def clean_fidelity_input_shape(self):
        shape = self.cleaned_data.get("fidelity_input_shape") or []
        if not isinstance(shape, list) or not all(isinstance(d, int) and d > 0 for d in shape):
            raise forms.ValidationError(
                "Give a list of positive whole numbers, e.g. [1, 1088, 1920, 4], or []."
            )
        return shape


class ReleaseForm(forms.Form):
    """When participants see the final leaderboard, entered in the workshop's time zone."""

    at = forms.DateTimeField(
        label="Preliminary results released at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
