"""URLs of a challenge's final phase, under /<workshop>/challenges/<challenge>/final/."""

from django.urls import path

from . import views

app_name = "finalphase"

urlpatterns = [
    path("", views.final_home, name="home"),
    path("submit/", views.submission_create, name="submit"),
    path("submissions/<uuid:pk>/", views.submission_detail, name="submission"),
    path("submissions/<uuid:pk>/status/", views.submission_status, name="submission-status"),
    path("submissions/<uuid:pk>/select/", views.submission_select, name="submission-select"),
    path("submissions/<uuid:pk>/<str:which>/", views.submission_file, name="submission-file"),
    path("submissions/", views.submissions_all, name="submissions"),
    path("factsheet/", views.factsheet_edit, name="factsheet"),
    path("factsheet.pdf", views.factsheet_pdf, name="factsheet-pdf"),
    path("factsheets/<int:team_id>.pdf", views.factsheet_pdf, name="factsheet-pdf-team"),
    path("factsheets.pdf", views.factsheets_all, name="factsheets"),
    path("code/", views.code_edit, name="code"),
    path("teams/<int:team_id>/<str:which>/", views.team_file, name="team-file"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("results.<str:fmt>", views.results_export, name="export"),
    path("settings/", views.settings_edit, name="settings"),
]
