"""URLs of conversion, under /conversion/."""

from django.urls import path

from . import views

app_name = "conversion"

urlpatterns = [
    path("", views.convert, name="convert"),
    path("<uuid:uid>/", views.detail, name="detail"),
    path("<uuid:uid>/status/", views.status, name="status"),
    path("<uuid:uid>/model.tflite", views.download, name="download"),
    path("<uuid:uid>/model_dynamic.tflite", views.download, {"which": "dynamic"}, name="download-dynamic"),
    path("<uuid:uid>/check-runtime/", views.check_runtime, name="check-runtime"),
    path("<uuid:uid>/submit/", views.submit_final, name="submit-final"),
    path("tracks/<int:challenge_id>/calibration/", views.calibration, name="calibration"),
]
