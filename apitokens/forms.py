"""The form that creates a token."""

from django import forms

from .models import ApiToken


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses it, e.g. “laptop” or “device host in the lab”.",
        error_messages={"required": "Give the token a name, e.g. the laptop or script that uses it."},
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="“Read” lists and downloads; “read and submit” also uploads submissions, models and papers.",
    )
