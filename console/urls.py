"""URLs of the console (namespace `console`), included at the root before the `<edition>/` catch-all:
`/console/…` for editions and invitations, `/<edition>/manage/…` for one edition's chairs."""

from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("console/", views.home, name="home"),
    path("console/new/", views.edition_new, name="edition-new"),
    path("console/clone/", views.edition_clone, name="edition-clone"),
    path("console/invitations/<str:token>/", views.role_invitation, name="role-invitation"),
    path("<slug:workshop>/manage/", views.workshop, name="workshop"),
    path("<slug:workshop>/manage/remind/", views.remind, name="remind"),
    path("<slug:workshop>/manage/mail/retry/", views.outbox_retry, name="outbox-retry"),
    path("<slug:workshop>/manage/edit/<slug:section>/", views.edit_section, name="edit"),
    path("<slug:workshop>/manage/topics/", views.topics, name="topics"),
    path("<slug:workshop>/manage/organisers/", views.organisers, name="organisers"),
    path("<slug:workshop>/manage/dates/", views.important_dates, name="dates"),
    path("<slug:workshop>/manage/roles/", views.role_list, name="roles"),
    path("<slug:workshop>/manage/roles/<int:pk>/revoke/", views.role_revoke, name="role-revoke"),
]
