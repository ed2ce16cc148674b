"""URLs of a workshop's challenges, under /<workshop>/challenges/."""

from django.urls import path

from . import views
from .console import views as console

app_name = "challenges"

urlpatterns = [
    path("", views.challenge_list, name="list"),
    path("new/", console.track_new, name="console-new"),
    path("<slug:challenge>/", views.challenge_detail, name="detail"),
    path("<slug:challenge>/register/", views.register, name="register"),
    path("<slug:challenge>/team/", views.team_page, name="team"),
    path("<slug:challenge>/team/create/", views.team_create, name="team-create"),
    path("<slug:challenge>/team/join/", views.team_join, name="team-join"),
    path("<slug:challenge>/team/invite/", views.team_invite, name="team-invite"),
    path("<slug:challenge>/team/leave/", views.team_leave, name="team-leave"),
    path("<slug:challenge>/invitation/<str:token>/", views.invitation, name="invitation"),
    path("<slug:challenge>/data/<int:pk>/", views.data_download, name="data"),
    path("<slug:challenge>/submissions/", views.submissions, name="submissions"),
    path("<slug:challenge>/submissions/<uuid:pk>/", views.submission_detail, name="submission"),
    path("<slug:challenge>/submissions/<uuid:pk>/status/", views.submission_status, name="submission-status"),
    path("<slug:challenge>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("<slug:challenge>/leaderboard.csv", views.leaderboard_csv, name="leaderboard-csv"),
    path("<slug:challenge>/manage/", views.manage, name="manage"),
    path("<slug:challenge>/manage/registrations/<int:pk>/", views.registration_approve, name="approve"),
    path("<slug:challenge>/manage/rescore-failed/", console.failed_rescore, name="console-rescore-failed"),
    path("<slug:challenge>/manage/track/", console.track_edit, name="console-track"),
    path("<slug:challenge>/manage/track/preview/", console.formula_preview, name="console-formula-preview"),
    path("<slug:challenge>/manage/track/delete/", console.track_delete, name="console-track-delete"),
    path("<slug:challenge>/manage/contract/", console.contract, name="console-contract"),
    path("<slug:challenge>/manage/milestones/", console.milestones_edit, name="console-milestones"),
    path("<slug:challenge>/manage/data/", console.data_files, name="console-data"),
    path(
        "<slug:challenge>/manage/data/<int:pk>/delete/", console.data_file_delete, name="console-data-delete"
    ),
]
