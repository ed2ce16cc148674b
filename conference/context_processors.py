"""Template context shared by every page: the editions for the header menu."""

from .models import Workshop


def site(request):
    return {"site_workshops": Workshop.objects.filter(is_public=True).only("slug", "short_name")}
