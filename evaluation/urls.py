"""URLs of evaluation, under /evaluation/."""

from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("check-runtime/", views.check_runtime, name="check-runtime"),
    path("devices/", views.device_list, name="device-list"),
    path("jobs/<uuid:uid>/", views.job_detail, name="job-detail"),
    path("jobs/<uuid:uid>/status/", views.job_status, name="job-status"),
    path("compare/", views.job_compare, name="job-compare"),
    path("lab/", views.device_lab, name="device-lab"),
    path("lab/<slug:slug>/<str:action>/", views.device_operate, name="device-operate"),
]
