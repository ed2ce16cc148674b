"""Forms of the challenge side: result upload, organisers' data files."""

from django import forms
from django.conf import settings

from .models import Challenge, DataFile


class SubmissionForm(forms.Form):
    file = forms.FileField(label="Result file")
    method_name = forms.CharField(max_length=200, required=False, label="Method name (optional)")
    method_description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Method description (optional)"
    )

    def __init__(self, *args, challenge: Challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.challenge = challenge
        self.fields[
            "file"
        ].help_text = f"{challenge.get_result_format_display()}; at most {challenge.max_upload_mb} MB."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.challenge.max_upload_mb * 1024 * 1024:
            raise forms.ValidationError(f"The file is larger than {self.challenge.max_upload_mb} MB.")
        return upload


class DataFileForm(forms.Form):
    split = forms.ChoiceField(choices=DataFile.Split.choices)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    upload = forms.FileField(required=False, label="File (stored privately)")
    external_url = forms.URLField(required=False, label="…or an external URL (for very large files)")

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload and upload.size > settings.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"Files above {settings.MAX_UPLOAD_BYTES // 1024**2} MB go elsewhere: "
                "give an external URL instead."
            )
        return upload

    def clean(self):
        data = super().clean()
        if bool(data.get("upload")) == bool(data.get("external_url")):
            raise forms.ValidationError("Give either a file or an external URL.")
        return data
