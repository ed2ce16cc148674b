"""Top-level URLs. Workshop editions live under their own prefix (/mai-2021/…); the catch-all edition
prefix comes last."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from conference import api as conference_api
from conference import views as conference_views

from . import views
from .api_docs import RedocDocsView, SwaggerDocsView

api_urlpatterns = [
    path("me/", conference_api.MeView.as_view(), name="api-me"),
    path("evaluation/", include("evaluation.api")),
    path("conversion/", include("conversion.api")),
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
    path("account/tokens/", include("apitokens.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", RedocDocsView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include(api_urlpatterns)),
    path("evaluation/", include("evaluation.urls")),
    path("conversion/", include("conversion.urls")),
    path("", include("console.urls")),
    path("<slug:workshop>/challenges/<slug:challenge>/final/", include("challenges.finalphase.urls")),
    path("<slug:workshop>/challenges/", include("challenges.urls")),
    path("<slug:workshop>/review/", include("conference.reviewing.urls")),
    path("<slug:workshop>/", include("conference.proceedings.urls")),
    path("<slug:workshop>/camera-ready/", include("conference.cameraready.urls")),
    path("<slug:workshop>/", include("conference.urls")),
]
