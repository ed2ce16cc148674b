"""URLs of one workshop edition, under /<workshop>/."""

from django.urls import path

from . import views

app_name = "conference"

urlpatterns = [
    path("", views.workshop_home, name="workshop"),
    path("call-for-papers/", views.call_for_papers, name="cfp"),
    path("dates/", views.important_dates, name="dates"),
    path("dates.ics", views.important_dates_ics, name="dates-ics"),
    path("organisers/", views.organisers, name="organisers"),
]
