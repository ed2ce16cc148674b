"""URLs of a workshop's challenges, under /<workshop>/challenges/."""

from django.urls import path

from . import views

app_name = "challenges"

urlpatterns = [
    path("", views.challenge_list, name="list"),
    path("<slug:challenge>/", views.challenge_detail, name="detail"),
]
