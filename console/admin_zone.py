"""The admin shows and takes a workshop's datetimes in the workshop's time zone.

`WorkshopZoneAdminMixin` on a ModelAdmin (and `WorkshopZoneInlineMixin` on its inlines) renders the
change form inside `timezone.override(<the edition's zone>)`, so Django's own datetime widgets show
the stored UTC instant in that zone and read what is typed there (17:00 typed for a Pacific edition is
00:00 or 01:00 UTC the next day), and every datetime field's help text names the zone. The edition is
found from the object (`workshop_path`, e.g. "workshop" or "challenge__workshop"; "" for a Workshop
itself) or, on an add form, from the posted edition (`workshop` field) or time zone (Workshop add).
Change-list columns named in `zone_list_fields` show each row's datetime in its own workshop's zone.
"""

from __future__ import annotations

import zoneinfo

from django.db import models
from django.utils import timezone

from conference.templatetags.workshop_time import format_in_zone

ZONE_ATTRIBUTE = "_workshop_time_zone"


def _zone_of_object(obj, path: str) -> str | None:
    for part in [p for p in path.split("__") if p]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return getattr(obj, "time_zone", None)


def _valid_zone(name: str | None) -> str | None:
    return name if name and name in zoneinfo.available_timezones() else None


class WorkshopZoneAdminMixin:
    """For a ModelAdmin whose objects belong to one edition (see the module docstring)."""

    workshop_path = "workshop"
    # Datetime columns of the change list shown in each row's workshop zone, e.g. ("at",).
    zone_list_fields: tuple[str, ...] = ()

    def get_list_display(self, request):
        return [
            _zoned_column(name, self.model, self.workshop_path) if name in self.zone_list_fields else name
            for name in super().get_list_display(request)
        ]

    def get_list_select_related(self, request):
        selected = super().get_list_select_related(request)
        if self.zone_list_fields and selected is False:
            return True  # each row's zone is read through `workshop_path`: no query per row
        return selected

    def workshop_time_zone(self, request, object_id) -> str | None:
        if object_id is not None:
            obj = self.get_object(request, object_id)
            if obj is not None:
                return _zone_of_object(obj, self.workshop_path)
        if request.method == "POST":
            if not self.workshop_path:
                return _valid_zone(request.POST.get("time_zone"))
            first, *rest = self.workshop_path.split("__")
            related_id = request.POST.get(first)
            if related_id and related_id.isdecimal():
                # The posted edition, or the edition of the posted paper, track, team…
                related = self.model._meta.get_field(first).related_model
                zone_path = "__".join([*rest, "time_zone"])
                return related.objects.filter(pk=related_id).values_list(zone_path, flat=True).first()
        return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        zone = _valid_zone(self.workshop_time_zone(request, object_id))
        setattr(request, ZONE_ATTRIBUTE, zone)
        if zone is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # A TemplateResponse renders after the view returns: render it while the zone is active.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return _zone_help(super().formfield_for_dbfield(db_field, request, **kwargs), db_field, request)


class WorkshopZoneInlineMixin:
    """For the inlines of such an admin: their datetimes follow the parent form's zone."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return _zone_help(super().formfield_for_dbfield(db_field, request, **kwargs), db_field, request)


def _zoned_column(name: str, model, path: str):
    """A change-list column showing the datetime field `name` in the row's workshop zone."""

    def column(obj):
        value = getattr(obj, name)
        zone = _zone_of_object(obj, path)
        return format_in_zone(value, zone) if value and zone else value or "—"

    column.short_description = model._meta.get_field(name).verbose_name
    column.admin_order_field = name
    column.__name__ = f"{name}_in_workshop_zone"
    return column


def _zone_help(formfield, db_field, request):
    if formfield is None or not isinstance(db_field, models.DateTimeField):
        return formfield
    zone = getattr(request, ZONE_ATTRIBUTE, None) if request is not None else None
    note = (
        f"Shown and entered in the workshop's time zone, {zone}."
        if zone
        else "Entered in the time zone of the workshop this belongs to (chosen above); shown in it once saved."
    )
    formfield.help_text = note
    return formfield
