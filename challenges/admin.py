"""Admin of the challenge side."""

from django.contrib import admin

from .models import Challenge, Milestone


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    list_display = ["title", "workshop", "target_platform"]
    list_filter = ["workshop"]
    inlines = [MilestoneInline]
