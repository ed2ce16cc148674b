"""URLs of the proceedings app, under /<workshop>/ (included before the edition's own URLs)."""

from django.urls import path

from . import views

app_name = "proceedings"

urlpatterns = [
    path("accepted-papers/", views.accepted_papers, name="accepted-papers"),
    path("accepted-papers/<int:number>.pdf", views.accepted_paper_pdf, name="accepted-paper-pdf"),
    path("programme/", views.programme, name="programme"),
    path("programme.ics", views.programme_ics, name="programme-ics"),
    path("partners/<int:pk>/logo.png", views.partner_logo, name="partner-logo"),
    path("talks/<int:pk>/photo.png", views.talk_photo, name="talk-photo"),
    path("proceedings/", views.manage, name="manage"),
    path("proceedings/exports/", views.export_start, name="export-start"),
    path("proceedings/exports/<int:pk>/", views.export_detail, name="export"),
    path("proceedings/exports/<int:pk>/status/", views.export_status, name="export-status"),
    path("proceedings/exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("proceedings/programme/", views.programme_edit, name="programme-edit"),
    path("proceedings/programme/sessions/<int:pk>/", views.session_edit, name="session"),
    path("proceedings/programme/sessions/<int:pk>/delete/", views.session_delete, name="session-delete"),
    path("proceedings/programme/slots/<int:pk>/delete/", views.slot_delete, name="slot-delete"),
    path("proceedings/talks/", views.talks, name="talks"),
    path("proceedings/talks/<int:pk>/", views.talks, name="talk"),
    path("proceedings/partners/", views.partners, name="partners"),
    path("proceedings/partners/<int:pk>/", views.partners, name="partner"),
]
