"""Forms of reviewing: committee invitations, the reviewer's profile, reviews, settings, release."""

from django import forms

from conference.models import Membership, Topic

from .models import Review, ReviewSettings


class InviteForm(forms.Form):
    people = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="People to invite",
        help_text="One per line: Name <name@university.edu>, or just the address.",
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.REVIEWER)


class ReviewerProfileForm(forms.Form):
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Expertise topics",
    )
    expertise = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label="Your expertise",
        help_text="A few sentences or abstracts of your recent papers (used to match papers).",
    )
    max_load = forms.IntegerField(min_value=0, max_value=50, required=False, label="Maximum number of papers")
    conflict_institutions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Institutions you are in conflict with",
        help_text="One per line.",
    )
    conflict_domains = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="E-mail domains you are in conflict with",
        help_text="e.g. ethz.ch",
    )
    conflict_emails = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="People you are in conflict with (e-mail addresses)",
    )

    def __init__(self, *args, workshop, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = Topic.objects.filter(workshop=workshop)


class ReviewForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = [
            "rating",
            "confidence",
            "strengths",
            "weaknesses",
            "justification",
            "comments_to_authors",
            "confidential_comments",
        ]
        labels = {"rating": "Overall rating", "confidential_comments": "Confidential comments to the chairs"}
        widgets = {
            f: forms.Textarea(attrs={"rows": 5})
            for f in [
                "strengths",
                "weaknesses",
                "justification",
                "comments_to_authors",
                "confidential_comments",
            ]
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ReviewSettings
        fields = [
            "reviewers_per_paper",
            "default_max_load",
            "bidding_open",
            "review_deadline",
            "reminder_every_hours",
            "bid_weight",
            "topic_weight",
            "text_weight",
        ]
        widgets = {
            "review_deadline": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        }
        help_texts = {"review_deadline": "In the workshop's time zone."}


class ReleaseForm(forms.Form):
    subject = forms.CharField(max_length=300)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Placeholders: {workshop}, {number}, {title}, {decision}, {url}.",
    )
