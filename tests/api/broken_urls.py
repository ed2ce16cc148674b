"""A URLconf for tests/api: the site's URLs plus one view under /api/ that fails, to see the 500 an
unexpected error gives there (JSON, like every error under /api/)."""

from django.urls import include, path


def broken(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("api/broken/", broken), path("", include("config.urls"))]
