"""URLs of the camera-ready, under /<workshop>/camera-ready/."""

from django.urls import path

from . import views

app_name = "cameraready"

urlpatterns = [
    path("", views.manage, name="manage"),
    path("remind/", views.remind, name="remind"),
    path("<int:number>/", views.paper_task, name="paper"),
    path("<int:number>/upload/", views.final_upload, name="upload"),
    path("<int:number>/check/", views.check_status, name="check"),
    path("<int:number>/metadata/", views.metadata_confirm, name="metadata"),
    path("<int:number>/sign/", views.agreement_sign, name="sign"),
    path("<int:number>/receipt/", views.receipt, name="receipt"),
    path("<int:number>/extend/", views.extend, name="extend"),
    path("<int:number>/void-agreement/", views.agreement_void, name="void-agreement"),
    path("<int:number>/v<int:version>/pdf/", views.final_file, name="file"),
]
