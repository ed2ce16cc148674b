"""Admin for chairs: every model of the workshop side and the papers (versions read-only)."""

from django.contrib import admin

from console.admin_zone import WorkshopZoneAdminMixin, WorkshopZoneInlineMixin

from .models import (
    ImportantDate,
    Membership,
    Organiser,
    OutgoingMail,
    Paper,
    PaperAuthor,
    PaperChange,
    PaperVersion,
    Profile,
    Topic,
    Workshop,
)


class TopicInline(admin.TabularInline):
    model = Topic
    extra = 0


class OrganiserInline(admin.TabularInline):
    model = Organiser
    extra = 0


class ImportantDateInline(WorkshopZoneInlineMixin, admin.TabularInline):
    model = ImportantDate
    extra = 0


@admin.register(Workshop)
class WorkshopAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = ""  # the Workshop is the edition: its dates (inline) are in its own zone
    list_display = ["short_name", "name", "host_conference", "start_date", "time_zone", "is_public"]
    prepopulated_fields = {"slug": ["short_name"]}
    inlines = [TopicInline, OrganiserInline, ImportantDateInline]


@admin.register(Membership)
class MembershipAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    list_display = ["user", "workshop", "role", "created_at"]
    zone_list_fields = ("created_at",)
    list_filter = ["workshop", "role"]
    search_fields = ["user__email"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["full_name", "user", "affiliation", "country"]
    search_fields = ["full_name", "user__email", "affiliation"]


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    list_display = ["subject", "state", "created_at", "sent_at"]
    list_filter = ["state"]
    readonly_fields = ["created_at", "sent_at"]

    # The outbox holds every message (who reviews which paper, decisions before release): superusers
    # only, whatever model permissions a chair's staff account has.
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ImportantDate)
class ImportantDateAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    list_display = ["workshop", "kind", "label", "at"]
    list_filter = ["workshop", "kind"]
    list_select_related = ["workshop"]
    zone_list_fields = ("at",)


admin.site.register(Topic)
admin.site.register(Organiser)


class PaperAuthorInline(WorkshopZoneInlineMixin, admin.TabularInline):
    model = PaperAuthor
    extra = 0
    raw_id_fields = ["user"]


class PaperVersionInline(admin.TabularInline):
    """Versions are read-only here: uploads and checks go through the site (services)."""

    model = PaperVersion
    extra = 0
    can_delete = False
    fields = ["number", "original_name", "size", "page_count", "check_state", "checked_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Paper)
class PaperAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    zone_list_fields = ("submitted_at", "deadline_extended_until")
    list_select_related = ["workshop"]
    list_display = [
        "number",
        "title",
        "workshop",
        "kind",
        "status",
        "submitted_at",
        "deadline_extended_until",
    ]
    list_filter = ["workshop", "kind", "status"]
    search_fields = ["title", "authors__name", "authors__email"]
    raw_id_fields = ["submitter"]
    readonly_fields = [
        "number",
        "revision",
        "submission_token",
        "created_at",
        "updated_at",
        "submitted_at",
        "withdrawn_at",
    ]
    inlines = [PaperAuthorInline, PaperVersionInline]


@admin.register(PaperChange)
class PaperChangeAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "paper__workshop"
    list_display = ["paper", "action", "user", "at", "summary"]
    zone_list_fields = ("at",)
    list_filter = ["action", "paper__workshop"]
    readonly_fields = ["paper", "user", "at", "action", "summary", "details"]
