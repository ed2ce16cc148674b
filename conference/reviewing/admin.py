"""Admin of reviewing. The pages under /<edition>/review/ are the normal way to work; the admin is for
repairs, and it never shows a chair what those pages hide.

- Reviewing data (assignments, reviews, discussion, meta-reviews, decisions, bids, conflicts): a
  superuser sees and edits everything; any other staff user sees, read-only, exactly the rows of the
  papers the chair pages show them (`selectors.paper_ids_visible_to_chair`: editions they chair, minus
  papers they are conflicted with — their own included). Writes go through the site's services
  (numbering, mail, state machines), never through a bare admin form, so staff cannot add, change or
  delete these rows here. Because deleting a paper or a user lists related rows only when the viewer
  may delete each of them, a chair deleting their own paper sees the kinds of rows, never the rows.
- Edition-level rows (settings, invitations, reviewer profiles): those of the editions they chair.
"""

from django.contrib import admin

from console.admin_zone import WorkshopZoneAdminMixin

from . import selectors
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


class PaperScopedAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    """Rows that belong to a paper, reached through `paper_path` (e.g. "assignment__paper"); their
    datetimes are shown in the paper's workshop zone (`workshop_path`)."""

    paper_path = "paper"
    workshop_path = "paper__workshop"

    def _visible_ids(self, request) -> set[int]:
        if not hasattr(request, "_reviewing_visible_papers"):
            request._reviewing_visible_papers = selectors.paper_ids_visible_to_chair(user=request.user)
        return request._reviewing_visible_papers

    def _paper_id(self, obj) -> int:
        target = obj
        for part in self.paper_path.split("__"):
            target = getattr(target, part)
        return target.id

    def _visible(self, request, obj) -> bool:
        return request.user.is_superuser or obj is None or self._paper_id(obj) in self._visible_ids(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.paper_path}__id__in": self._visible_ids(request)})

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._visible(request, obj)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class WorkshopScopedAdmin(WorkshopZoneAdminMixin, admin.ModelAdmin):
    """Edition-level rows: staff see those of the editions they chair, datetimes in its zone."""

    def _workshops(self, request) -> set[int]:
        return selectors.chaired_workshop_ids(user=request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(workshop_id__in=self._workshops(request))

    def _visible(self, request, obj) -> bool:
        return request.user.is_superuser or obj is None or obj.workshop_id in self._workshops(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._visible(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._visible(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._visible(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "workshop" and not request.user.is_superuser:
            kwargs["queryset"] = selectors.workshops_chaired(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(WorkshopScopedAdmin):
    list_display = ["workshop", "reviewers_per_paper", "default_max_load", "bidding_open", "review_deadline"]
    zone_list_fields = ("review_deadline",)
    # The last run's diagnosis names papers: read it on the assignment page, which filters it.
    exclude = ["last_run"]


@admin.register(Invitation)
class InvitationAdmin(WorkshopScopedAdmin):
    list_display = ["email", "workshop", "role", "state", "created_at", "responded_at"]
    zone_list_fields = ("created_at", "responded_at")
    list_filter = ["role", "state"]
    search_fields = ["email", "name"]
    readonly_fields = ["token", "user", "state", "responded_at"]


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(WorkshopScopedAdmin):
    list_display = ["user", "workshop", "max_load"]


@admin.register(Conflict)
class ConflictAdmin(PaperScopedAdmin):
    list_display = ["paper", "user", "source", "state", "decided_at"]
    zone_list_fields = ("decided_at",)
    list_filter = ["source", "state"]


@admin.register(Bid)
class BidAdmin(PaperScopedAdmin):
    list_display = ["paper", "user", "value", "updated_at"]
    zone_list_fields = ("updated_at",)
    list_filter = ["value"]


@admin.register(Assignment)
class AssignmentAdmin(PaperScopedAdmin):
    list_display = ["paper", "user", "state", "number", "affinity", "manual", "last_reminded_at"]
    zone_list_fields = ("last_reminded_at",)
    list_filter = ["state"]


@admin.register(Review)
class ReviewAdmin(PaperScopedAdmin):
    paper_path = "assignment__paper"
    workshop_path = "assignment__paper__workshop"
    list_display = ["assignment", "rating", "confidence", "state", "submitted_at"]
    zone_list_fields = ("submitted_at",)
    list_filter = ["state"]


@admin.register(Comment)
class CommentAdmin(PaperScopedAdmin):
    list_display = ["paper", "shown_as", "created_at"]
    zone_list_fields = ("created_at",)


@admin.register(MetaReview)
class MetaReviewAdmin(PaperScopedAdmin):
    list_display = ["paper", "updated_at"]
    zone_list_fields = ("updated_at",)


@admin.register(Decision)
class DecisionAdmin(PaperScopedAdmin):
    list_display = ["paper", "outcome", "decided_at", "released_at"]
    zone_list_fields = ("decided_at", "released_at")
    list_filter = ["outcome"]
