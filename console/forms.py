"""Forms of the console. Datetimes are entered in the workshop's zone: views build and read these
forms inside `timezone.override(workshop.zone)`, so Django's own fields show and parse them there (a
time that does not exist or is ambiguous at a clock change is refused with Django's message)."""

from __future__ import annotations

import datetime
import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils import timezone

from conference.models import ImportantDate, Topic, Workshop
from conference.templatetags.workshop_time import zone_label

from .models import RoleInvitation
from .services.editions import WORKSHOP_SECTIONS

TOPIC_MAX_LENGTH = Topic._meta.get_field("name").max_length
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COMMON_ZONES = [
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Europe/Zurich",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Singapore",
    "Australia/Sydney",
    "UTC",
]


def time_zone_choices() -> list[tuple[str, str]]:
    common = [(z, f"{z} ({zone_label(z)})") for z in COMMON_ZONES]
    rest = sorted(z for z in zoneinfo.available_timezones() if z not in COMMON_ZONES and "/" in z)
    return [("Common", common), ("All zones", [(z, z) for z in rest])]


class EditionNewForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. Mobile AI Workshop 2027")
    short_name = forms.CharField(max_length=40, help_text="e.g. MAI 2027")
    slug = forms.SlugField(max_length=50, help_text="The edition's address: /slug/, e.g. mai-2027.")
    host_conference = forms.CharField(max_length=100, help_text="e.g. CVPR 2027")
    start_date = forms.DateField(widget=DATE_INPUT)
    end_date = forms.DateField(widget=DATE_INPUT)
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        initial="America/Los_Angeles",
        help_text="Every date is entered and shown in it.",
    )


class EditionCloneForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Workshop.objects.none(), label="Edition to clone")
    name = forms.CharField(max_length=200, label="New name", help_text="e.g. Mobile AI Workshop 2022")
    short_name = forms.CharField(max_length=40, label="New short name", help_text="e.g. MAI 2022")
    slug = forms.CharField(
        max_length=50, label="New address (slug)", validators=[validate_slug], help_text="e.g. mai-2022"
    )
    day_offset = forms.IntegerField(
        label="Shift every date by (days)",
        help_text="Added to every important date, milestone and the workshop days, e.g. 364 for a year "
        "later on the same weekday. Negative moves dates earlier.",
    )
    reinvite_committee = forms.BooleanField(
        required=False,
        label="Invite the committee again",
        help_text="The old edition's chairs, area chairs and reviewers get a new single-use invitation by e-mail.",
    )

    def __init__(self, *args, sources=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sources is not None:
            self.fields["source"].queryset = sources


def workshop_section_form(section: str):
    """The ModelForm of one edit page (its fields: `services.editions.WORKSHOP_SECTIONS`)."""
    widgets = {
        "start_date": DATE_INPUT,
        "end_date": DATE_INPUT,
        "call_for_papers": forms.Textarea(attrs={"rows": 16}),
        "description": forms.Textarea(attrs={"rows": 3}),
        "dual_submission_policy": forms.Textarea(attrs={"rows": 3}),
        "pdf_not_identities": forms.Textarea(attrs={"rows": 3}),
        "time_zone": forms.Select(choices=time_zone_choices()),
    }
    fields = WORKSHOP_SECTIONS[section]
    return forms.modelform_factory(
        Workshop, fields=fields, widgets={k: v for k, v in widgets.items() if k in fields}
    )


class TopicsForm(forms.Form):
    topics = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14}),
        required=False,
        help_text="One topic per line, in the order shown. A topic that papers or reviewers chose stays.",
    )

    def clean_topics(self):
        text = self.cleaned_data["topics"]
        too_long = [
            n for n, line in enumerate(text.splitlines(), start=1) if len(line.strip()) > TOPIC_MAX_LENGTH
        ]
        if too_long:
            raise ValidationError(
                f"A topic has at most {TOPIC_MAX_LENGTH} characters: shorten line(s) "
                + ", ".join(str(n) for n in too_long)
                + "."
            )
        return text


class OrganiserForm(forms.Form):
    name = forms.CharField(max_length=200)
    affiliation = forms.CharField(max_length=300)
    email = forms.EmailField(required=False)
    homepage = forms.URLField(required=False)


OrganiserFormSet = forms.formset_factory(OrganiserForm, extra=2, can_delete=True)


def _wall_time(value: datetime.datetime) -> str:
    return f"{value:%-I:%M%p on %a %-d %B %Y}".replace("AM", "am").replace("PM", "pm")


class WorkshopDateTimeField(forms.DateTimeField):
    """Django's field, read in the current (workshop) zone, with a message that says what is wrong
    with a time the clocks skip (spring forward) or show twice (fall back)."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if exc.code != "ambiguous_timezone":
                raise
            naive, zone = exc.params["datetime"], timezone.get_current_timezone()
            earlier, later = naive.replace(fold=0, tzinfo=zone), naive.replace(fold=1, tzinfo=zone)
            if earlier.utcoffset() != later.utcoffset() and earlier.utcoffset() > later.utcoffset():
                message = (
                    f"{_wall_time(naive)} happens twice in {zone.key}: the clocks go back an hour "
                    "that night. Choose a time outside that hour."
                )
            else:
                message = (
                    f"There is no {_wall_time(naive)} in {zone.key}: the clocks go forward an hour "
                    "that night. Choose a time outside that hour."
                )
            raise ValidationError(message, code="ambiguous_timezone") from exc


class DateRowForm(forms.Form):
    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Empty on the new rows, so that an untouched row says nothing (and a filled one says what it is).
    kind = forms.ChoiceField(choices=[("", "— choose —"), *ImportantDate.Kind.choices], required=False)
    label = forms.CharField(
        max_length=200, required=False, help_text="Optional; defaults to the kind's name."
    )
    at = WorkshopDateTimeField(required=False, widget=DATETIME_INPUT, label="Date and time")
    remove = forms.BooleanField(required=False, label="Remove")

    def clean(self):
        data = super().clean()
        has_time = bool(data.get("at")) or "at" in self.errors
        if data.get("pk") and not data.get("remove") and not has_time:
            self.add_error("at", "Enter the date and time (or tick “Remove”).")
        if not data.get("pk") and data.get("kind") and not has_time:
            self.add_error(
                "at", "Enter the date and time of this new date (or set its kind back to “— choose —”)."
            )
        if (data.get("pk") or has_time) and not data.get("kind") and "kind" not in self.errors:
            self.add_error("kind", "Choose what this date is.")
        return data


DateFormSet = forms.formset_factory(DateRowForm, extra=3)


class RoleInviteForm(forms.Form):
    role = forms.ChoiceField(choices=RoleInvitation.Role.choices)
    email = forms.EmailField(label="E-mail address")
    name = forms.CharField(max_length=200, required=False)
    challenge = forms.ModelChoiceField(
        queryset=None, required=False, label="Track", help_text="For a challenge organiser."
    )
    device_host = forms.ModelChoiceField(
        queryset=None, required=False, label="Device host", help_text="For a device operator."
    )

    def __init__(self, *args, challenges, device_hosts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["challenge"].queryset = challenges
        self.fields["device_host"].queryset = device_hosts

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if role == RoleInvitation.Role.CHALLENGE_ORGANISER and not data.get("challenge"):
            self.add_error("challenge", "Choose the track this organiser is invited to.")
        if role == RoleInvitation.Role.DEVICE_OPERATOR and not data.get("device_host"):
            self.add_error("device_host", "Choose the device host this operator is invited to run.")
        return data
