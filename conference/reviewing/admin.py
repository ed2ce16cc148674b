"""Admin of reviewing for chairs (staff): every model, read-mostly lists. The pages under
/<edition>/review/ are the normal way to work; the admin is for repairs."""

from django.contrib import admin

from .models import (
    Assignment,
    Bid,
    Comment,
    Conflict,
    Decision,
    Invitation,
    MetaReview,
    Review,
    ReviewerProfile,
    ReviewSettings,
)


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(admin.ModelAdmin):
    list_display = ["workshop", "reviewers_per_paper", "default_max_load", "bidding_open", "review_deadline"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "workshop", "role", "state", "created_at", "responded_at"]
    list_filter = ["workshop", "role", "state"]
    search_fields = ["email", "name"]
    readonly_fields = ["token"]


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "workshop", "max_load"]
    list_filter = ["workshop"]


@admin.register(Conflict)
class ConflictAdmin(admin.ModelAdmin):
    list_display = ["paper", "user", "source", "state", "decided_at"]
    list_filter = ["paper__workshop", "source", "state"]


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):
    list_display = ["paper", "user", "value", "updated_at"]
    list_filter = ["paper__workshop", "value"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["paper", "user", "state", "number", "affinity", "manual"]
    list_filter = ["paper__workshop", "state"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["assignment", "rating", "confidence", "state", "submitted_at"]
    list_filter = ["assignment__paper__workshop", "state"]


admin.site.register(Comment)
admin.site.register(MetaReview)


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["paper", "outcome", "decided_at", "released_at"]
    list_filter = ["paper__workshop", "outcome"]
