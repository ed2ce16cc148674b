"""Top-level URLs. Workshop editions live under their own prefix (/mai-2021/…); the catch-all edition
prefix comes last."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from conference import views as conference_views

from . import views

api_urlpatterns = [
    path("evaluation/", include("evaluation.api")),
    path("challenges/", include("challenges.api")),
    path("final/", include("challenges.finalphase.api")),
    path("conference/", include("conference.api")),
]

urlpatterns = [
    path("", conference_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("profile/", conference_views.profile_edit, name="profile"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(api_urlpatterns)),
    path("evaluation/", include("evaluation.urls")),
    path("<slug:workshop>/challenges/<slug:challenge>/final/", include("challenges.finalphase.urls")),
    path("<slug:workshop>/challenges/", include("challenges.urls")),
    path("<slug:workshop>/review/", include("conference.reviewing.urls")),
    path("<slug:workshop>/", include("conference.urls")),
]
