"""Admin of the challenge side (organisers' day-to-day work has its own pages under …/manage/)."""

from django.contrib import admin

from console.admin_zone import WorkshopZoneAdminMixin, WorkshopZoneInlineMixin

from .models import (
    Challenge,
    DataFile,
    Milestone,
    Registration,
    Submission,
    Team,
    TeamInvitation,
    TeamMembership,
)
from .services import registration as registration_services
from .services import submissions as submission_services


class MilestoneInline(WorkshopZoneInlineMixin, admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Challenge)
class ChallengeAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    list_display = ["title", "workshop", "target_platform", "result_format", "leaderboard_policy"]
    list_filter = ["workshop"]
    filter_horizontal = ["organisers"]
    inlines = [MilestoneInline]


@admin.register(Registration)
class RegistrationAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    list_display = ["user", "challenge", "approved", "created_at"]
    zone_list_fields = ("created_at",)
    list_filter = ["challenge", "approved"]
    actions = ["approve"]

    @admin.action(description="Approve the selected registrations")
    def approve(self, request, queryset):
        for registration in queryset.filter(approved=False):
            registration_services.registration_approve(registration=registration)


class TeamMembershipInline(WorkshopZoneInlineMixin, admin.TabularInline):
    model = TeamMembership
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]


@admin.register(Team)
class TeamAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    list_display = ["name", "challenge", "created_at"]
    zone_list_fields = ("created_at",)
    list_filter = ["challenge"]
    search_fields = ["name"]
    inlines = [TeamMembershipInline]


@admin.register(TeamInvitation)
class TeamInvitationAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "team__challenge__workshop"
    list_display = ["email", "team", "created_at", "accepted_at"]
    zone_list_fields = ("created_at", "accepted_at")


@admin.register(DataFile)
class DataFileAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    list_display = ["title", "challenge", "split", "size", "uploaded_at"]
    zone_list_fields = ("uploaded_at",)
    list_filter = ["challenge", "split"]


@admin.register(Submission)
class SubmissionAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    workshop_path = "challenge__workshop"
    list_display = ["team", "challenge", "status", "created_at", "scores"]
    zone_list_fields = ("created_at",)
    list_filter = ["challenge", "status"]
    readonly_fields = ["public_id", "scores", "per_file", "error", "started_at", "finished_at"]
    actions = ["rescore"]

    @admin.action(description="Score again (e.g. after the ground truth was replaced)")
    def rescore(self, request, queryset):
        count = submission_services.submissions_rescore(
            submission_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{count} submission(s) queued to be scored again.")
