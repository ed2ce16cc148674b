"""URLs of evaluation, under /evaluation/."""

from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("check-runtime/", views.check_runtime, name="check-runtime"),
]
