"""Forms of the people side: sign-up extras and the profile."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import Profile, domain_validator


class SignupProfileForm(forms.Form):
    """Extra fields on allauth's sign-up form."""

    full_name = forms.CharField(max_length=200, label="Full name")
    affiliation = forms.CharField(max_length=300, required=False, label="Affiliation")

    def signup(self, request, user):
        Profile.objects.update_or_create(
            user=user,
            defaults={"full_name": self.cleaned_data["full_name"],
                      "affiliation": self.cleaned_data.get("affiliation", "")},
        )
        user.first_name = self.cleaned_data["full_name"][:150]
        user.save(update_fields=["first_name"])


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
                raise ValidationError(f"“{item}”: {' '.join(exc.messages)}")
            if item not in items:
                items.append(item)
        return items


class ProfileForm(forms.ModelForm):
    other_emails = LinesField(item_validator=validate_email, label="Other e-mail addresses",
                              help_text="One per line: every address you have used, confirmed or not.")
    institution_domains = LinesField(item_validator=domain_validator, label="Institution domains",
                                     help_text="One per line, e.g. ethz.ch.")

    class Meta:
        model = Profile
        fields = ["full_name", "affiliation", "country", "other_emails", "institution_domains"]
