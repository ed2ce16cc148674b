"""Forms of the camera-ready pages: the final PDF, the metadata (title, abstract, ordered authors), the
copyright/licence form, the chair's extension, settings and reminder confirmation. Every field has a
label; the views hand cleaned data to `services`."""

from django import forms
from django.utils import timezone

from conference.forms import ExtensionForm

from .models import CopyrightAgreement, Licence


class FinalPdfForm(forms.Form):
    pdf = forms.FileField(
        label="Final PDF (de-anonymised)",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        help_text="The camera-ready version: authors named, no review ruler or header, every font embedded.",
    )


class MetadataForm(forms.Form):
    title = forms.CharField(label="Final title", max_length=300)
    abstract = forms.CharField(
        label="Final abstract", max_length=5000, widget=forms.Textarea(attrs={"rows": 8})
    )


class FinalAuthorForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    affiliation = forms.CharField(label="Affiliation", max_length=300)
    email = forms.EmailField(label="E-mail")


class BaseFinalAuthorFormSet(forms.BaseFormSet):
    """Ordered authors; blank rows are skipped."""

    def authors(self) -> list[dict]:
        return [form.cleaned_data for form in self.forms if form.cleaned_data]


FinalAuthorFormSet = forms.formset_factory(
    FinalAuthorForm, formset=BaseFinalAuthorFormSet, extra=1, max_num=30, validate_max=True
)


class AgreementForm(forms.Form):
    signer_name = forms.CharField(label="Your full name (signature)", max_length=200)
    on_behalf_of = forms.ChoiceField(
        label="I sign on behalf of", choices=CopyrightAgreement.OnBehalfOf.choices, widget=forms.RadioSelect
    )
    employer = forms.CharField(
        label="Employer (when signing for your employer)", max_length=300, required=False
    )
    agreed = forms.BooleanField(label="I have read the text above and agree to it for this paper")
    text_version = forms.CharField(widget=forms.HiddenInput)


class CameraReadyExtensionForm(ExtensionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["until"].label = "Extend this paper's camera-ready deadline until"


class SettingsForm(forms.Form):
    licence = forms.ChoiceField(label="Licence authors sign", choices=Licence.choices)
    agreement_text = forms.CharField(
        label="Agreement text (empty: the standard text of the licence)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class RemindForm(forms.Form):
    shown_at = forms.DateTimeField(widget=forms.HiddenInput)

    @staticmethod
    def initial_now() -> dict:
        return {"shown_at": timezone.now().isoformat()}


class AgreementVoidForm(forms.Form):
    reason = forms.CharField(
        label="Why the signature is voided (sent to the authors)",
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
    )
