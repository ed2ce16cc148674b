"""Forms of the people side (sign-up extras, the profile) and of papers (submit and edit with the
ordered authors, withdrawal, a chair's extension, the chairs' filters). Choices come from selectors;
the sign-up extras are saved through a service."""

import tempfile
import zipfile

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from . import pdfcheck
from .models import Paper, Profile, Topic, domain_validator
from .selectors import workshop_challenges, workshop_topics
from .services import AuthorData, profile_save_signup


class SignupProfileForm(forms.Form):
    """Extra fields on allauth's sign-up form."""

    full_name = forms.CharField(max_length=200, label="Full name")
    affiliation = forms.CharField(max_length=300, required=False, label="Affiliation")

    def signup(self, request, user):
        profile_save_signup(
            user=user,
            full_name=self.cleaned_data["full_name"],
            affiliation=self.cleaned_data.get("affiliation", ""),
        )


class LinesField(forms.CharField):
    """A textarea holding one item per line (or comma-separated), cleaned to a list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, item_validator, **kwargs):
        self.item_validator = item_validator
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def clean(self, value):
        value = super().clean(value)
        items = []
        for raw in (value or "").replace(",", "\n").splitlines():
            item = raw.strip().lower()
            if not item:
                continue
            try:
                self.item_validator(item)
            except ValidationError as exc:
                raise ValidationError(f"“{item}”: {' '.join(exc.messages)}") from None
            if item not in items:
                items.append(item)
        return items


class ProfileForm(forms.ModelForm):
    other_emails = LinesField(
        item_validator=validate_email,
        label="Other e-mail addresses",
        help_text="One per line: every address you have used, confirmed or not.",
    )
    institution_domains = LinesField(
        item_validator=domain_validator, label="Institution domains", help_text="One per line, e.g. ethz.ch."
    )

    class Meta:
        model = Profile
        fields = ["full_name", "affiliation", "country", "other_emails", "institution_domains"]


# --- Papers ----------------------------------------------------------------------------------------


def _local_copy(upload):
    """A path to the uploaded bytes on disk (large uploads already are; small ones are written out)."""
    if hasattr(upload, "temporary_file_path"):
        return upload.temporary_file_path(), None
    handle = tempfile.NamedTemporaryFile(suffix=".pdf")  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
    upload.seek(0)
    for chunk in upload.chunks():
        handle.write(chunk)
    handle.flush()
    upload.seek(0)
    return handle.name, handle


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


class PaperForm(forms.Form):
    """Everything about a paper but its authors (see AuthorFormSet)."""

    title = forms.CharField(max_length=300)
    abstract = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one topic."},
    )
    kind = forms.ChoiceField(
        choices=Paper.Kind.choices,
        widget=forms.RadioSelect,
        initial=Paper.Kind.REGULAR,
        label="Kind of paper",
    )
    challenge = forms.ModelChoiceField(
        queryset=Topic.objects.none(),
        required=False,
        help_text="Challenge papers only: the challenge your solution is for.",
    )
    dual_submission = forms.BooleanField(
        required=False, label="This paper is also submitted to the host conference's main track"
    )
    dual_submission_id = forms.CharField(
        max_length=100, required=False, label="Main-conference submission ID"
    )
    pdf = forms.FileField(label="Paper (PDF)")
    supplementary = forms.FileField(required=False, label="Supplementary material (ZIP or PDF, optional)")
    submission_token = forms.UUIDField(required=False, widget=forms.HiddenInput)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, workshop, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)

        self.workshop = workshop
        self.fields["topics"].queryset = workshop_topics(workshop=workshop)
        self.fields["challenge"].queryset = workshop_challenges(workshop=workshop)
        self.fields[
            "dual_submission"
        ].label = f"This paper is also submitted to the {workshop.host_conference} main conference"
        self.fields["dual_submission_id"].label = f"{workshop.host_conference} submission ID"
        if not workshop.dual_submission_with_host_allowed:
            del self.fields["dual_submission"], self.fields["dual_submission_id"]
        self.fields["pdf"].help_text = (
            f"At most {_megabytes(settings.PAPER_PDF_MAX_BYTES)}, {workshop.page_limit} pages"
            f"{' plus references' if workshop.references_excluded else ''}, "
            f"{workshop.paper_size}, anonymous."
        )
        self.fields[
            "supplementary"
        ].help_text = f"At most {_megabytes(settings.PAPER_SUPPLEMENTARY_MAX_BYTES)}; anonymous too."
        if editing:
            self.fields["pdf"].required = False
            self.fields["pdf"].label = "New PDF (optional: leave empty to keep the current one)"
            self.fields["supplementary"].label = "New supplementary material (optional)"

    def clean_pdf(self):
        upload = self.cleaned_data.get("pdf")
        if not upload:
            return upload
        if upload.size == 0:
            raise ValidationError("The file is empty (0 bytes).")
        if upload.size > settings.PAPER_PDF_MAX_BYTES:
            raise ValidationError(
                f"The PDF is {_megabytes(upload.size)}; at most {_megabytes(settings.PAPER_PDF_MAX_BYTES)} are accepted."
            )
        if not upload.name.lower().endswith(".pdf"):
            raise ValidationError("Upload a PDF file (name ending in .pdf).")
        path, handle = _local_copy(upload)
        try:
            info = pdfcheck.quick_inspect_isolated(path, max_pages=settings.PAPER_PDF_MAX_PAGES)
        except pdfcheck.PdfRefused as exc:
            raise ValidationError(str(exc)) from exc
        finally:
            if handle:
                handle.close()
        upload.page_count = info.pages
        return upload

    def clean_supplementary(self):
        upload = self.cleaned_data.get("supplementary")
        if not upload:
            return upload
        if upload.size == 0:
            raise ValidationError("The supplementary file is empty (0 bytes).")
        if upload.size > settings.PAPER_SUPPLEMENTARY_MAX_BYTES:
            raise ValidationError(
                f"The supplementary material is {_megabytes(upload.size)}; at most "
                f"{_megabytes(settings.PAPER_SUPPLEMENTARY_MAX_BYTES)} are accepted."
            )
        name = upload.name.lower()
        upload.seek(0)
        head = upload.read(1024)
        upload.seek(0)
        if name.endswith(".pdf"):
            if b"%PDF-" not in head:
                raise ValidationError("The supplementary file is named .pdf but is not a PDF.")
        elif name.endswith(".zip"):
            if not zipfile.is_zipfile(upload):
                raise ValidationError("The supplementary file is named .zip but is not a ZIP archive.")
            upload.seek(0)
        else:
            raise ValidationError("Supplementary material is a ZIP archive or a PDF.")
        return upload

    def clean(self):
        data = super().clean()
        if data.get("kind") == Paper.Kind.CHALLENGE and not data.get("challenge"):
            self.add_error("challenge", "A challenge paper names its challenge.")
        if data.get("dual_submission") and not (data.get("dual_submission_id") or "").strip():
            self.add_error("dual_submission_id", "Give the main-conference submission ID.")
        return data


class AuthorForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(label="E-mail")
    affiliation = forms.CharField(max_length=300)


class BaseAuthorFormSet(forms.BaseFormSet):
    """Ordered authors; blank rows are skipped; the person submitting must stay on the list."""

    def __init__(self, *args, user_emails: list[str] = (), **kwargs):
        self.user_emails = {e.lower() for e in user_emails}
        super().__init__(*args, **kwargs)

    def clean(self):
        if any(self.errors):
            return
        emails = []
        for form in self.forms:
            if not form.cleaned_data:
                continue
            email = form.cleaned_data["email"].lower()
            if email in emails:
                raise ValidationError(f"{email} is listed twice: each author appears once.")
            emails.append(email)
        if not emails:
            raise ValidationError("List at least one author.")
        if self.user_emails and not self.user_emails & set(emails):
            raise ValidationError(
                "You must be one of the authors: list yourself with one of your addresses ("
                + ", ".join(sorted(self.user_emails))
                + ")."
            )

    def authors(self):
        return [
            AuthorData(
                name=f.cleaned_data["name"],
                email=f.cleaned_data["email"],
                affiliation=f.cleaned_data["affiliation"],
            )
            for f in self.forms
            if f.cleaned_data
        ]


AuthorFormSet = forms.formset_factory(
    AuthorForm, formset=BaseAuthorFormSet, extra=3, max_num=40, validate_max=True
)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason (optional, the chairs see it)",
    )
    confirm = forms.BooleanField(label="Yes, withdraw this paper. This cannot be undone by authors.")


class ExtensionForm(forms.Form):
    until = forms.DateTimeField(
        label="Extend this paper's deadline until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the workshop's time zone.",
    )

    def __init__(self, *args, workshop, **kwargs):
        super().__init__(*args, **kwargs)
        self.workshop = workshop

    def clean_until(self):
        value = self.cleaned_data["until"]
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        return timezone.make_aware(value, self.workshop.zone)


class PaperFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", help_text="Number, title, abstract, author")
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Paper.Kind.choices])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Paper.Status.choices])
    topic = forms.ModelChoiceField(required=False, queryset=Topic.objects.none(), empty_label="Any topic")
    check = forms.ChoiceField(
        required=False,
        label="PDF check",
        choices=[
            ("", "Any check result"),
            ("warnings", "With warnings"),
            ("errors", "Refused / no valid PDF"),
            ("clean", "Passed without warnings"),
            ("pending", "Checking"),
        ],
    )

    def __init__(self, *args, workshop, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = workshop_topics(workshop=workshop)
