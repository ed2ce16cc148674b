"""Admin for chairs: every model of the workshop side."""

from django.contrib import admin

from .models import ImportantDate, Membership, Organiser, OutgoingMail, Profile, Topic, Workshop


class TopicInline(admin.TabularInline):
    model = Topic
    extra = 0


class OrganiserInline(admin.TabularInline):
    model = Organiser
    extra = 0


class ImportantDateInline(admin.TabularInline):
    model = ImportantDate
    extra = 0


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):
    list_display = ["short_name", "name", "host_conference", "start_date", "time_zone", "is_public"]
    prepopulated_fields = {"slug": ["short_name"]}
    inlines = [TopicInline, OrganiserInline, ImportantDateInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workshop", "role", "created_at"]
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


admin.site.register(ImportantDate)
admin.site.register(Topic)
admin.site.register(Organiser)
