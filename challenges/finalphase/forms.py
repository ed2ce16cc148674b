"""Forms of the final phase: model submission, fact sheet (with a member formset), code, and the
organisers' settings (formula and constants, policies). Validation that needs the database or the
clock lives in `services`; these check shape and size only."""

from django import forms

from .models import FinalPhaseSettings
from .services import FACTSHEET_ATTACHMENT_MB


class ModelSubmissionForm(forms.Form):
    model = forms.FileField(label="model.tflite", help_text="The model measured on the target device.")
    dynamic_model = forms.FileField(
        label="Model with dynamic input size (optional)", required=False,
        help_text="Same network with None in the spatial input dimensions, for full-resolution fidelity runs.")
    results = forms.FileField(label="Result files (optional)", required=False,
                              help_text="A .zip/.npz/.csv of your outputs on the test inputs.")
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
    architecture_training = forms.CharField(label="Architecture and training details",
                                            widget=forms.Textarea(attrs={"rows": 5}))
    training_data_hardware = forms.CharField(label="Training data and hardware",
                                             widget=forms.Textarea(attrs={"rows": 3}))
    runtime_observations = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                           help_text="Anything you observed about runtime on the target device.")
    links = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="One URL per line: code, paper, project page.")
    attachment = forms.FileField(required=False, label="LaTeX or PDF version (optional)",
                                 help_text=f"A PDF, a .tex file or a .zip of the sources; at most "
                                           f"{FACTSHEET_ATTACHMENT_MB} MB.")


class MemberForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    affiliation = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)


MemberFormSet = forms.formset_factory(MemberForm, extra=0, max_num=20)


class CodeForm(forms.Form):
    archive = forms.FileField(required=False, label="Code archive",
                              help_text="A .zip, .tar.gz or .7z of the code that reproduces your model.")
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
                raise forms.ValidationError(f"“{line.strip()}” is not of the form NAME = number.")
        return constants


class FinalSettingsForm(forms.ModelForm):
    constants = ConstantsField(required=False, help_text="One per line, e.g. C = 1.5")

    class Meta:
        model = FinalPhaseSettings
        fields = ["score_formula", "constants", "counting_policy", "show_own_results_early",
                  "public_after_workshop", "requires_dynamic_model", "fidelity_input_shape", "device_slug",
                  "accelerator", "threads", "timed_runs", "fidelity_time_limit_s", "max_submissions",
                  "max_model_mb", "max_code_mb"]


class ReleaseForm(forms.Form):
    """When participants see the final leaderboard, entered in the workshop's time zone."""

    at = forms.DateTimeField(label="Preliminary results released at",
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
