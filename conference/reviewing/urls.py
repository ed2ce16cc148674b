"""URLs of reviewing, under /<workshop>/review/."""

from django.urls import path

from . import assignment_views, views

app_name = "reviewing"

urlpatterns = [
    path("", views.home, name="home"),
    path("remind/", views.remind, name="remind"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("profile/", views.profile, name="profile"),
    path("committee/", views.committee, name="committee"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/", views.conflict_decide, name="conflict-decide"),
    path("settings/", views.review_settings, name="settings"),
    path("bids/", views.bids, name="bids"),
    path("bids/<int:number>/", views.bid, name="bid"),
    path("assignment/", views.assignment, name="assignment"),
    path("assignment/runs/<int:pk>/", assignment_views.assignment_run, name="assignment-run"),
    path(
        "assignment/runs/<int:pk>/status/",
        assignment_views.assignment_run_status,
        name="assignment-run-status",
    ),
    path("assignment/commit/", assignment_views.assignment_commit, name="assignment-commit"),
    path("papers/<int:number>/", views.paper, name="paper"),
    path("papers/<int:number>/paper.pdf", views.paper_pdf, name="paper-pdf"),
    path("papers/<int:number>/supplementary/", views.paper_supplementary, name="paper-supplementary"),
    path("papers/<int:number>/review/", views.review, name="review"),
    path("papers/<int:number>/discussion/", views.discuss, name="discuss"),
    path("papers/<int:number>/discussion/thread/", views.discussion, name="discussion"),
    path("papers/<int:number>/meta-review/", views.meta_review, name="meta-review"),
    path("decisions/", views.decisions, name="decisions"),
    path("release/", views.release, name="release"),
    path("my-papers/<int:number>/reviews/", views.author_reviews, name="author-reviews"),
    path("my-papers/<int:number>/conflicts/", views.author_conflicts, name="author-conflicts"),
]
