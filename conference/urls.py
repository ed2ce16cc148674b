"""URLs of one workshop edition, under /<workshop>/."""

from django.urls import path, re_path

from . import paper_views, views

app_name = "conference"

urlpatterns = [
    path("", views.workshop_home, name="workshop"),
    path("call-for-papers/", views.call_for_papers, name="cfp"),
    path("dates/", views.important_dates, name="dates"),
    path("dates.ics", views.important_dates_ics, name="dates-ics"),
    path("organisers/", views.organisers, name="organisers"),
    path("papers/", paper_views.my_papers, name="my-papers"),
    path("papers/submit/", paper_views.paper_submit, name="paper-submit"),
    path("papers/all/", paper_views.papers_manage, name="papers-manage"),
    path("papers/<int:number>/", paper_views.paper_detail, name="paper"),
    path("papers/<int:number>/check/", paper_views.paper_check_status, name="paper-check"),
    path("papers/<int:number>/edit/", paper_views.paper_edit, name="paper-edit"),
    path("papers/<int:number>/withdraw/", paper_views.paper_withdraw, name="paper-withdraw"),
    path("papers/<int:number>/extend/", paper_views.paper_extend, name="paper-extend"),
    re_path(
        r"^papers/(?P<number>[0-9]+)/v(?P<version>[0-9]+)/(?P<which>pdf|review|supplementary)/$",
        paper_views.paper_file,
        name="paper-file",
    ),
]
