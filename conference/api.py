"""REST API of the workshop side: who am I, papers, reviewing (documented at /api/schema/ and /api/docs/).

- `GET /api/me/`: the caller's e-mail, name, roles per edition and the token in use;
- authors, under /api/conference/papers/: `GET` their papers (status, versions, check reports,
  released decision and reviews, reviewers shown as "Reviewer n"), `POST` a new paper (multipart, the
  fields of the submit page; `authors` a JSON list of {name, email, affiliation}), `GET`/`PATCH`
  `<workshop>/<number>/` one paper (a new PDF version and/or metadata, as the edit page);
- anyone, `GET /api/conference/workshops/<workshop>/topics/`: the topics of the call (public, as the
  call for papers), ids and names, for `topics` of a submission;
- reviewers, `GET /api/conference/workshops/<workshop>/reviewing/assignments/`: their committed,
  non-conflicted assignments — anonymous (no author identity, as on the reviewing pages);
- chairs, `GET /api/conference/workshops/<workshop>/export/<papers|reviews|decisions|assignments>.<csv|json>`.

Permissions are the pages' own `rules` predicates (conference/rules.py, reviewing/rules.py); forms and
services are the pages' own too (`PaperForm`, `AuthorFormSet`, `services.paper_create/paper_update`),
so the API accepts and refuses exactly what the pages do, deadlines included.
"""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.urls import path, register_converter
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.csv_export import csv_text
from common.uploads import UploadLimitedMixin
from common.urls import absolute_url
from config.api_errors import error_response, errors
from config.middleware import arrived_at

from . import selectors, services
from .forms import AuthorFormSet, PaperForm
from .models import Membership, Paper
from .reviewing import export_selectors
from .reviewing import selectors as reviewing_selectors
from .services.submission import PaperConflict

app_name = "conference-api"


# --- Who am I -------------------------------------------------------------------------------------------


class RolesSerializer(serializers.Serializer):
    workshop = serializers.CharField(help_text="The edition's slug.")
    workshop_title = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Membership.Role.choices))


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    roles = RolesSerializer(many=True)
    token = inline_serializer(
        "TokenInUse",
        {"name": serializers.CharField(), "scope": serializers.CharField()},
        allow_null=True,
        help_text="The API token of this request; null for a browser session.",
    )


class MeView(APIView):
    @extend_schema(responses={200: MeSerializer}, summary="Who am I: e-mail, name, roles per edition")
    def get(self, request):
        user = request.user
        profile = getattr(user, "profile", None)
        by_workshop: dict[int, dict] = {}
        for m in Membership.objects.filter(user=user).select_related("workshop").order_by("workshop__slug"):
            entry = by_workshop.setdefault(
                m.workshop_id, {"workshop": m.workshop.slug, "workshop_title": str(m.workshop), "roles": []}
            )
            entry["roles"].append(m.role)
        token = request.auth if hasattr(request.auth, "scope") else None
        return Response(
            {
                "id": user.pk,
                "email": user.email,
                "name": (profile.full_name if profile else "") or user.get_full_name(),
                "roles": list(by_workshop.values()),
                "token": {"name": token.name, "scope": token.scope} if token else None,
            }
        )


# --- Papers (authors) -----------------------------------------------------------------------------------


def extend_schema_field_list(serializer_class):
    """Documents a method field as a list of `serializer_class`."""
    return extend_schema_field(serializer_class(many=True))


class TopicSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AuthorSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField()
    affiliation = serializers.CharField(max_length=300)


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField(source="created_at")
    size = serializers.IntegerField()
    page_count = serializers.IntegerField(allow_null=True)
    check_state = serializers.CharField(help_text="pending, passed or failed (see check_report)")
    check_report = serializers.JSONField(help_text="The PDF check's findings: errors and warnings.")


class ReleasedReviewSerializer(serializers.Serializer):
    reviewer = serializers.CharField(help_text='"Reviewer 1…n": reviewers are never named to authors.')
    rating = serializers.IntegerField(allow_null=True)
    confidence = serializers.IntegerField(allow_null=True)
    strengths = serializers.CharField()
    weaknesses = serializers.CharField()
    comments_to_authors = serializers.CharField()


class PaperSerializer(serializers.Serializer):
    workshop = serializers.CharField(source="workshop.slug")
    number = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    title = serializers.CharField()
    abstract = serializers.CharField()
    kind = serializers.ChoiceField(choices=Paper.Kind.choices)
    challenge = serializers.IntegerField(source="challenge_id", allow_null=True)
    status = serializers.ChoiceField(choices=Paper.Status.choices)
    revision = serializers.IntegerField(help_text="Send it back with PATCH to refuse a stale edit.")
    topics = serializers.SerializerMethodField()
    authors = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()
    editable = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()

    def get_url(self, paper) -> str:
        return absolute_url(paper.get_absolute_url())

    @extend_schema_field_list(TopicSerializer)
    def get_topics(self, paper):
        return [{"id": t.pk, "name": t.name} for t in paper.topics.all()]

    @extend_schema_field_list(AuthorSerializer)
    def get_authors(self, paper):
        return [
            {"name": a.name, "email": a.email, "affiliation": a.affiliation}
            for a in selectors.paper_authors(paper=paper)
        ]

    @extend_schema_field_list(VersionSerializer)
    def get_versions(self, paper):
        return VersionSerializer(selectors.paper_versions(paper=paper), many=True).data

    def get_editable(self, paper) -> bool:
        return selectors.paper_is_editable(paper=paper)

    def get_decision(self, paper) -> str | None:
        """accept/reject once released to the authors (chairs: as recorded)."""
        user = self.context["request"].user
        # As on the pages: a chair sees the recorded decision, except on a paper they are conflicted
        # with or an author of (they learn it when it is released, like the other authors).
        if user.has_perm("conference.manage_workshop", paper.workshop) and paper.pk not in (
            reviewing_selectors.conflicted_paper_ids(workshop=paper.workshop, user=user)
        ):
            decision = reviewing_selectors.decision_get(paper=paper)
        else:
            decision = reviewing_selectors.released_decision(paper=paper)
        return decision.outcome if decision else None

    @extend_schema_field_list(ReleasedReviewSerializer)
    def get_reviews(self, paper):
        if not self.context["request"].user.has_perm("reviewing.read_released_reviews", paper):
            return []
        return [
            {
                "reviewer": f"Reviewer {r.assignment.number}",
                "rating": r.rating,
                "confidence": r.confidence,
                "strengths": r.strengths,
                "weaknesses": r.weaknesses,
                "comments_to_authors": r.comments_to_authors,
            }
            for r in reviewing_selectors.submitted_reviews(paper=paper)
        ]


class PaperWriteSerializer(serializers.Serializer):
    """What POST (all required but supplementary/challenge/dual_*) and PATCH (any) take, as multipart."""

    workshop = serializers.SlugField(help_text="The edition's slug (POST only).")
    title = serializers.CharField(max_length=300)
    abstract = serializers.CharField(max_length=5000)
    topics = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Topic ids (GET /api/conference/workshops/<workshop>/topics/ lists them); repeat the field.",
    )
    kind = serializers.ChoiceField(choices=Paper.Kind.choices, required=False)
    challenge = serializers.IntegerField(
        required=False, help_text="Challenge papers: the challenge's `id` (as GET /api/challenges/ gives it)."
    )
    authors = serializers.CharField(
        help_text='JSON list, in order: [{"name": …, "email": …, "affiliation": …}]; you are one of them.'
    )
    dual_submission = serializers.BooleanField(required=False)
    dual_submission_id = serializers.CharField(required=False, allow_blank=True)
    pdf = serializers.FileField(help_text="The paper (PDF, anonymous). PATCH: a new version, optional.")
    supplementary = serializers.FileField(required=False)
    revision = serializers.IntegerField(required=False, help_text="PATCH: the revision you last read.")


def _invalid(fields: dict[str, list[str]], messages: list[str] | None = None):
    """A 400 in the API's error shape, from form errors."""
    detail = dict(fields)
    if messages:
        detail["non_field_errors"] = messages
    return exceptions.ValidationError(detail)


def _authors_formset(raw: str, *, user, initial=None):
    """The pages' author formset, filled from the API's JSON list (so both check the same)."""
    try:
        rows = json.loads(raw or "[]")
    except json.JSONDecodeError as exc:
        raise _invalid({"authors": [f"Not valid JSON: {exc.msg}."]}) from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _invalid({"authors": ['A JSON list of {"name", "email", "affiliation"} objects.']})
    data = QueryDict(mutable=True)
    data.update({"authors-TOTAL_FORMS": str(len(rows)), "authors-INITIAL_FORMS": "0"})
    for i, row in enumerate(rows):
        for key in ("name", "email", "affiliation"):
            data[f"authors-{i}-{key}"] = str(row.get(key, ""))
    return AuthorFormSet(
        data, prefix="authors", initial=initial, user_emails=selectors.user_confirmed_emails(user=user)
    )


def _form_data(request, initial: dict | None = None) -> QueryDict:
    """The request's fields for `PaperForm`; on PATCH, the paper's current values fill what is missing."""
    data = QueryDict(mutable=True)
    for key, value in (initial or {}).items():
        if key in ("pdf", "supplementary") or value is None:
            continue
        if isinstance(value, list | tuple):
            data.setlist(key, [str(getattr(v, "pk", v)) for v in value])
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        else:
            data[key] = str(getattr(value, "pk", value))
    for key in request.data:
        if key in ("pdf", "supplementary", "authors", "workshop"):
            continue
        if key == "topics":
            values = request.data.getlist(key) if hasattr(request.data, "getlist") else request.data[key]
            data.setlist(key, [str(v) for v in (values if isinstance(values, list) else [values])])
        else:
            data[key] = str(request.data[key])
    return data


def _form_errors(form, authors) -> exceptions.ValidationError:
    fields = {k: [str(m) for m in v] for k, v in form.errors.items() if k != "__all__"}
    messages = [str(m) for m in form.errors.get("__all__", [])]
    if authors is not None:
        for i, errs in enumerate(authors.errors):
            for field, msgs in errs.items():
                fields.setdefault("authors", []).extend(f"author {i + 1}, {field}: {m}" for m in msgs)
        messages += [str(m) for m in authors.non_form_errors()]
    return _invalid(fields, messages)


STALE_REVISION = (
    "The paper was changed (by a co-author, another client or the web page) after revision {sent} that "
    "you sent; it is now at revision {current}. Nothing was saved: fetch the paper again "
    "(GET {path}), check its current values and send your change with revision {current}."
)


def _service_errors(exc: ValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        fields = {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items() if k != "__all__"}
        messages = [m for e in exc.error_dict.get("__all__", []) for m in e.messages]
        return _invalid(fields, messages)
    return _invalid({}, exc.messages)


def _paper(request, workshop: str, number: int, perm: str) -> Paper:
    """The paper if the caller passes `perm` (as `paper_views._paper_for`): 403 for an author or chair
    who may see it but not do this, else 404 (nobody learns which numbers exist)."""
    ws = selectors.workshop_get(slug=workshop, user=request.user)
    paper = selectors.paper_get(workshop=ws, number=number)
    if not request.user.has_perm(perm, paper):
        if request.user.has_perm("conference.paper_see", paper):
            raise exceptions.PermissionDenied("You may not do this with this paper.")
        raise exceptions.NotFound("No such paper.")
    return paper


def _paper_limits(request, *args, **kwargs) -> dict[str, int]:
    return {"pdf": settings.PAPER_PDF_MAX_BYTES, "supplementary": settings.PAPER_SUPPLEMENTARY_MAX_BYTES}


class PaperListView(UploadLimitedMixin, APIView):
    parser_classes = [parsers.MultiPartParser]

    def upload_limits(self, request, *args, **kwargs):
        return _paper_limits(request)

    @extend_schema(
        responses={200: PaperSerializer(many=True), 404: error_response(404, "No such workshop edition.")},
        parameters=[OpenApiParameter("workshop", str, description="Only this edition's papers (its slug).")],
        summary="Your papers (as author or submitter), all editions or ?workshop=<slug>",
    )
    def get(self, request):
        ws = None
        if request.query_params.get("workshop"):
            ws = selectors.workshop_get(slug=request.query_params["workshop"], user=request.user)
        papers = selectors.paper_list_for_author(user=request.user, workshop=ws)
        return Response(PaperSerializer(papers, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": PaperWriteSerializer},
        responses={201: PaperSerializer, 404: error_response(404, "No such workshop edition.")},
        summary="Submit a paper (as the submit page: same checks, same deadline)",
    )
    def post(self, request):
        now = arrived_at(request)
        self.check_upload_complete(request)
        slug = str(request.data.get("workshop", ""))
        if not slug:
            raise _invalid({"workshop": ["Name the edition (its slug, e.g. mai-2021)."]})
        ws = selectors.workshop_get(slug=slug, user=request.user)
        form = PaperForm(_form_data(request), request.FILES, workshop=ws)
        authors = _authors_formset(str(request.data.get("authors", "")), user=request.user)
        if not (form.is_valid() & authors.is_valid()):
            raise _form_errors(form, authors)
        data = form.cleaned_data
        try:
            paper, created = services.paper_create(
                workshop=ws,
                submitter=request.user,
                pdf=data["pdf"],
                submission_token=data.get("submission_token"),
                now=now,
                **_paper_fields(data, authors.authors()),
            )
        except ValidationError as exc:
            raise _service_errors(exc) from exc
        return Response(
            PaperSerializer(paper, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _paper_fields(data: dict, authors) -> dict:
    return {
        "title": data["title"],
        "abstract": data["abstract"],
        "topics": list(data["topics"]),
        "kind": data["kind"],
        "challenge": data.get("challenge"),
        "dual_submission": data.get("dual_submission", False),
        "dual_submission_id": data.get("dual_submission_id", ""),
        "authors": authors,
        "supplementary": data.get("supplementary"),
    }


class PaperDetailView(UploadLimitedMixin, APIView):
    parser_classes = [parsers.MultiPartParser]

    def upload_limits(self, request, *args, **kwargs):
        return _paper_limits(request)

    def initial(self, request, *args, **kwargs):
        if request.method == "PATCH":  # the upload guard looks at POST; a PATCH carries files too
            request._request.method = "POST"
            try:
                super().initial(request, *args, **kwargs)
            finally:
                request._request.method = "PATCH"
        else:
            super().initial(request, *args, **kwargs)

    @extend_schema(
        responses={200: PaperSerializer, **errors(403, 404)},
        summary="One of your papers: status, versions, check reports, released reviews",
    )
    def get(self, request, workshop, number):
        paper = _paper(request, workshop, number, "conference.paper_see")
        return Response(PaperSerializer(paper, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": PaperWriteSerializer},
        responses={200: PaperSerializer, **errors(403, 404)},
        summary="Edit a paper: metadata and/or a new PDF version (until the deadline, as the edit page)",
    )
    def patch(self, request, workshop, number):
        now = arrived_at(request)
        paper = _paper(request, workshop, number, "conference.paper_edit")
        self.check_upload_complete(request)
        if not selectors.paper_is_editable(paper=paper, now=now):
            raise _invalid(
                {},
                [
                    "This paper can no longer be edited (the deadline has passed or it was withdrawn). "
                    "Only withdrawal is possible."
                ],
            )
        initial, author_initial = selectors.paper_edit_initial(paper=paper)
        form = PaperForm(
            _form_data(request, initial),
            request.FILES,
            workshop=paper.workshop,
            editing=True,
            initial=initial,
        )
        raw_authors = request.data.get("authors")
        if raw_authors is None:
            raw_authors = json.dumps(
                [{k: a.get(k, "") for k in ("name", "email", "affiliation")} for a in author_initial]
            )
        authors = _authors_formset(str(raw_authors), user=request.user)
        if not (form.is_valid() & authors.is_valid()):
            raise _form_errors(form, authors)
        data = form.cleaned_data
        try:
            services.paper_update(
                paper=paper,
                user=request.user,
                expected_revision=data.get("revision"),
                pdf=data.get("pdf"),
                now=now,
                **_paper_fields(data, authors.authors()),
            )
        except PaperConflict as exc:
            paper.refresh_from_db()
            message = STALE_REVISION.format(
                sent=data.get("revision"), current=paper.revision, path=request.path
            )
            raise _invalid({"revision": [message]}) from exc
        except ValidationError as exc:
            raise _service_errors(exc) from exc
        paper.refresh_from_db()
        return Response(PaperSerializer(paper, context={"request": request}).data)


# --- Topics of the call (public) ------------------------------------------------------------------------


class TopicListView(APIView):
    permission_classes = [permissions.AllowAny]  # public, as the call for papers that lists them

    @extend_schema(
        responses={200: TopicSerializer(many=True), 404: error_response(404, "No such workshop edition.")},
        summary="The topics of an edition's call for papers (ids and names, for a submission's topics)",
    )
    def get(self, request, workshop):
        ws = selectors.workshop_get(slug=workshop, user=request.user)
        return Response(TopicSerializer(selectors.workshop_topics(workshop=ws), many=True).data)


# --- Reviewing: reviewers' assignments, anonymous --------------------------------------------------------


class ReviewerAssignmentSerializer(serializers.Serializer):
    paper = serializers.IntegerField(source="paper.number")
    title = serializers.CharField(source="paper.title")
    abstract = serializers.CharField(source="paper.abstract")
    reviewer_number = serializers.IntegerField(source="number", allow_null=True)
    review_state = serializers.SerializerMethodField()

    def get_review_state(self, assignment) -> str:
        review = getattr(assignment, "review", None)
        return review.state if review else "none"


def _workshop_for(request, workshop: str, perm: str, refusal: str):
    ws = selectors.workshop_get(slug=workshop, user=request.user)
    if not request.user.has_perm(perm, ws):
        raise exceptions.PermissionDenied(refusal)
    return ws


class ReviewerAssignmentsView(APIView):
    @extend_schema(
        responses={200: ReviewerAssignmentSerializer(many=True), **errors(403, 404)},
        summary="Reviewers: the papers assigned to you (anonymous: no author identity)",
    )
    def get(self, request, workshop):
        ws = _workshop_for(
            request,
            workshop,
            "reviewing.bid_in_workshop",
            "Only the reviewers of this edition have assignments here.",
        )
        assignments = reviewing_selectors.assignments_of_reviewer(workshop=ws, user=request.user)
        return Response(ReviewerAssignmentSerializer(assignments, many=True).data)


# --- Chairs' exports -------------------------------------------------------------------------------------


class ExportKindConverter:
    regex = "papers|reviews|decisions|assignments"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class ExportFormatConverter:
    regex = "csv|json"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ExportKindConverter, "export_kind")
register_converter(ExportFormatConverter, "export_format")


def _export(kind: str, ws, user) -> tuple[list[str], list[list]]:
    if kind == "papers":
        papers = selectors.paper_list_for_chairs(workshop=ws)
        return list(selectors.PAPER_EXPORT_HEADER), selectors.paper_export_rows(papers=papers)
    if kind == "reviews":
        return export_selectors.REVIEW_EXPORT_HEADER, export_selectors.review_export_rows(
            workshop=ws, user=user
        )
    if kind == "decisions":
        return export_selectors.DECISION_EXPORT_HEADER, export_selectors.decision_export_rows(
            workshop=ws, user=user
        )
    return export_selectors.ASSIGNMENT_EXPORT_HEADER, export_selectors.assignment_export_rows(
        workshop=ws, user=user
    )


class ExportView(APIView):
    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(str, description="CSV with a header row."),
            (200, "application/json"): OpenApiResponse(
                inline_serializer(
                    "ExportTable",
                    {
                        "columns": serializers.ListField(child=serializers.CharField()),
                        "rows": serializers.ListField(child=serializers.ListField()),
                    },
                ),
                description="The same table as JSON.",
            ),
            **errors(403, 404),
        },
        parameters=[
            OpenApiParameter(
                "kind", str, OpenApiParameter.PATH, enum=["papers", "reviews", "decisions", "assignments"]
            ),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["csv", "json"]),
        ],
        summary="Chairs: submissions, reviews, decisions or assignments of an edition",
    )
    def get(self, request, workshop, kind, fmt):
        ws = _workshop_for(
            request,
            workshop,
            "conference.manage_workshop",
            "Only the chairs of this edition export its data.",
        )
        header, rows = _export(kind, ws, request.user)
        if fmt == "json":
            return Response({"columns": header, "rows": rows})
        response = HttpResponse(csv_text(rows, header=header), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{ws.slug}-{kind}.csv"'
        return response


urlpatterns = [
    path("papers/", PaperListView.as_view(), name="papers"),
    path("papers/<slug:workshop>/<int:number>/", PaperDetailView.as_view(), name="paper"),
    path("workshops/<slug:workshop>/topics/", TopicListView.as_view(), name="topics"),
    path(
        "workshops/<slug:workshop>/reviewing/assignments/",
        ReviewerAssignmentsView.as_view(),
        name="reviewer-assignments",
    ),
    path(
        "workshops/<slug:workshop>/export/<export_kind:kind>.<export_format:fmt>",
        ExportView.as_view(),
        name="export",
    ),
]
