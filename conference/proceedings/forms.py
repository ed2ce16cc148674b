"""Plain forms of the chairs' pages: settings, sessions, slots, invited talks, partners. Times are
entered in the workshop's time zone. Images are plain file fields: they are decoded only in the
sandbox, by the service, never by Pillow in this process (as Django's ImageField would)."""

from django import forms
from django.utils import timezone

from conference.models import Workshop

from . import selectors
from .models import Slot

TIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class WorkshopTimeField(forms.DateTimeField):
    """A time typed in the workshop's zone, made aware there (not in the server's zone)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", TIME_WIDGET)
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)


class ZonedForm(forms.Form):
    time_fields = ("starts_at", "ends_at")

    def __init__(self, *args, workshop: Workshop, **kwargs):
        initial = dict(kwargs.pop("initial", None) or {})
        for name in self.time_fields:  # shown in the workshop's zone
            if initial.get(name) is not None and timezone.is_aware(initial[name]):
                initial[name] = timezone.localtime(initial[name], workshop.zone).replace(tzinfo=None)
        super().__init__(*args, initial=initial, **kwargs)
        self.workshop = workshop
        zone_name = workshop.time_zone
        for name in self.time_fields:
            self.fields[name].help_text = f"In the workshop's time zone ({zone_name})."

    def _clean_time(self, name):
        value = self.cleaned_data.get(name)
        if value is None:
            return value
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        return timezone.make_aware(value, self.workshop.zone)

    def clean_starts_at(self):
        return self._clean_time("starts_at")

    def clean_ends_at(self):
        return self._clean_time("ends_at")


class SettingsForm(forms.Form):
    pdfs_published = forms.BooleanField(
        required=False, label="Publish the camera-ready PDFs on the accepted-papers page"
    )
    month = forms.CharField(max_length=20, initial="June", label="BibTeX month")
    preface = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Preface")


class SessionForm(ZonedForm):
    title = forms.CharField(max_length=200, label="Session title")
    room = forms.CharField(max_length=100, required=False)
    chair_name = forms.CharField(max_length=200, required=False, label="Session chair")
    starts_at = WorkshopTimeField(label="Starts")
    ends_at = WorkshopTimeField(label="Ends")


class SlotForm(ZonedForm):
    kind = forms.ChoiceField(choices=Slot.Kind.choices)
    starts_at = WorkshopTimeField(label="Slot starts")
    ends_at = WorkshopTimeField(label="Slot ends")
    paper = forms.ModelChoiceField(queryset=None, required=False, label="Accepted paper (paper talk)")
    talk = forms.ModelChoiceField(queryset=None, required=False, label="Invited talk")
    challenge = forms.ModelChoiceField(queryset=None, required=False, label="Challenge (challenge session)")
    title = forms.CharField(max_length=300, required=False, label="Title (break, challenge session)")
    room = forms.CharField(max_length=100, required=False, label="Room (if not the session's)")

    def __init__(self, *args, workshop: Workshop, **kwargs):
        super().__init__(*args, workshop=workshop, **kwargs)
        self.fields["paper"].queryset = selectors.accepted_papers(workshop=workshop)
        self.fields["paper"].label_from_instance = lambda p: f"#{p.number} {p.title}"
        self.fields["talk"].queryset = selectors.invited_talks(workshop=workshop)
        self.fields["challenge"].queryset = selectors.challenges_of(workshop=workshop)


class InvitedTalkForm(forms.Form):
    speaker = forms.CharField(max_length=200)
    affiliation = forms.CharField(max_length=300, required=False)
    title = forms.CharField(max_length=300, label="Talk title")
    abstract = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    bio = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Short bio")
    photo = forms.FileField(required=False, label="Photo (PNG, JPEG, GIF or WebP)")


class PartnerForm(forms.Form):
    name = forms.CharField(max_length=200, label="Partner name")
    url = forms.URLField(required=False, label="Web site", assume_scheme="https")
    order = forms.IntegerField(min_value=0, initial=0, required=False, label="Order")
    logo = forms.FileField(required=False, label="Logo (PNG, JPEG, GIF or WebP)")
