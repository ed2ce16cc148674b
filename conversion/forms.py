"""Forms of the conversion pages: the conversion request and an organiser's calibration set."""

from django import forms

from evaluation.tflite import ShapeError, format_shape, parse_shape

from .models import Conversion


class TrackSelect(forms.Select):
    """Each track option carries its contract in words (`data-contract`), which
    static/js/conversion_form.js shows beside the select and uses to hide the hand-typed shapes."""

    def __init__(self, *args, contracts: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contracts = contracts or {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["data-contract"] = self.contracts.get(str(value), "")
        return option


def contract_words(challenge) -> str:
    out = (
        f" → {challenge.output_dtype} {format_shape(challenge.output_shape)}"
        if challenge.output_shape
        else ""
    )
    int8 = ", full-integer INT8 required" if challenge.int8_required else ""
    return f"input {challenge.input_dtype} {format_shape(challenge.input_shape)}{out}{int8}"


class ConversionForm(forms.Form):
    model = forms.FileField(label="Model file")
    track = forms.ChoiceField(label="Track", required=False)
    input_shape = forms.CharField(
        label="Input shape",
        required=False,
        max_length=100,
        help_text="Without a track: the shape to convert at, e.g. 1x480x720x3.",
        widget=forms.TextInput(attrs={"placeholder": "1x480x720x3"}),
    )
    output_shape = forms.CharField(
        label="Expected output shape",
        required=False,
        max_length=100,
        help_text="Optional without a track, e.g. 1x1440x2160x3; a model that produces another shape is refused.",
        widget=forms.TextInput(attrs={"placeholder": "1x1440x2160x3"}),
    )
    output_kind = forms.ChoiceField(label="Output", choices=Conversion.OutputKind.choices)
    dynamic_copy = forms.BooleanField(
        label="Also the copy with dynamic input size (None height and width), for full-resolution fidelity runs",
        required=False,
    )

    def __init__(self, *args, tracks=(), accept: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.tracks = {str(t.pk): t for t in tracks}
        self.fields["track"].choices = [("", "— none: I give the shapes —")] + [
            (str(t.pk), f"{t.workshop.short_name}: {t.title}") for t in tracks
        ]
        self.fields["track"].widget = TrackSelect(
            choices=self.fields["track"].choices, contracts={str(t.pk): contract_words(t) for t in tracks}
        )
        self.fields["model"].widget.attrs["accept"] = accept

    def _shape(self, name: str) -> str:
        text = self.cleaned_data.get(name, "")
        if text.strip():
            try:
                parse_shape(text)
            except ShapeError as exc:
                raise forms.ValidationError(exc.message) from None
        return text

    def clean_input_shape(self):
        return self._shape("input_shape")

    def clean_output_shape(self):
        return self._shape("output_shape")

    def clean_track(self):
        value = self.cleaned_data.get("track") or ""
        return self.tracks.get(value) if value else None


class CalibrationSetForm(forms.Form):
    file = forms.FileField(
        label="Calibration samples (.npz, .npy or a zip of images)",
        help_text="Each sample must have the track's input shape (without the batch dimension).",
    )
