"""Template context shared by every page: the editions for the header menu."""

from .selectors import workshop_menu


def site(request):
    return {"site_workshops": workshop_menu()}
