"""factory_boy factories for the rows the tests set up: people (an account with a verified allauth
address and a profile, as sign-up leaves them), editions and their roles, papers with authors and PDF
versions, challenges with teams, validation submissions, devices and runtime jobs.

A factory writes what a test does not care about; a test names what it checks. Papers that reviewers
read get a real PDF and the anonymised review copy the paper side makes (`make_paper`).
"""

import datetime as dt
import tempfile
from pathlib import Path

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files import File
from django.utils import timezone
from factory.django import DjangoModelFactory

from challenges.finalphase.models import CodeSubmission, FactSheet
from challenges.models import Challenge, DataFile, Milestone, Registration, Submission, Team, TeamMembership
from conference.models import (
    ImportantDate,
    Membership,
    Paper,
    PaperAuthor,
    PaperVersion,
    Profile,
    Topic,
    Workshop,
)
from conference.reviewing.models import Assignment, Bid, Conflict, Decision, Review
from evaluation.models import Device, RuntimeJob

PASSWORD = "a-Long-test-passw0rd"


# --- People and editions ---------------------------------------------------------------------------
class EmailAddressFactory(DjangoModelFactory):
    class Meta:
        model = EmailAddress

    user = None
    email = factory.SelfAttribute("user.email")
    verified = True
    primary = True


class ProfileFactory(DjangoModelFactory):
    class Meta:
        model = Profile

    user = None
    full_name = "Test Person"
    affiliation = "Test University"


class UserFactory(DjangoModelFactory):
    """An account as sign-up leaves it: username = e-mail, the address verified and primary, a
    profile. `UserFactory(email=…, full_name=…, affiliation=…, profile__other_emails=[…])`; the password is
    `PASSWORD`, hashed with the test settings' hasher."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    class Params:
        full_name = "Test Person"
        affiliation = "Test University"

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    username = factory.SelfAttribute("email")
    password = factory.django.Password(PASSWORD)
    email_address = factory.RelatedFactory(EmailAddressFactory, factory_related_name="user")
    profile = factory.RelatedFactory(
        ProfileFactory,
        factory_related_name="user",
        full_name=factory.SelfAttribute("..full_name"),
        affiliation=factory.SelfAttribute("..affiliation"),
    )


def api_token(user, *, scope: str = "submit", name: str = "tests") -> str:
    """An API token of `user` (apitokens, as the tokens page makes it); returns the secret to send as
    `Authorization: Token <secret>`."""
    from apitokens.services import api_token_create

    return api_token_create(user=user, name=name, scope=scope)[1]


class WorkshopFactory(DjangoModelFactory):
    """An edition some weeks ahead, in Pacific time as MAI's."""

    class Meta:
        model = Workshop

    slug = factory.Sequence(lambda n: f"ws-{n}")
    name = factory.LazyAttribute(lambda o: f"Workshop {o.slug}")
    short_name = factory.LazyAttribute(lambda o: o.slug.upper())
    host_conference = "CVPR 2030"
    start_date = factory.LazyFunction(lambda: timezone.now().date() + dt.timedelta(days=60))
    end_date = factory.SelfAttribute("start_date")
    time_zone = "America/Los_Angeles"


class TopicFactory(DjangoModelFactory):
    class Meta:
        model = Topic

    workshop = factory.SubFactory(WorkshopFactory)
    name = factory.Sequence(lambda n: f"Topic {n}")
    order = factory.Sequence(int)


class ImportantDateFactory(DjangoModelFactory):
    """`ImportantDateFactory(workshop=ws, kind="paper_deadline", at=…)` (default: in five days)."""

    class Meta:
        model = ImportantDate

    workshop = factory.SubFactory(WorkshopFactory)
    kind = ImportantDate.Kind.PAPER_DEADLINE
    at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=5))


class MembershipFactory(DjangoModelFactory):
    """A role in an edition: `MembershipFactory(workshop=ws, user=u, role="chair")`."""

    class Meta:
        model = Membership

    workshop = factory.SubFactory(WorkshopFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.REVIEWER


# --- Papers ----------------------------------------------------------------------------------------
class PaperFactory(DjangoModelFactory):
    """A submitted regular paper; its number counts up."""

    class Meta:
        model = Paper
        skip_postgeneration_save = True

    workshop = factory.SubFactory(WorkshopFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Paper {n} on mobile NPUs")
    abstract = "Quantized networks on phones."
    status = Paper.Status.SUBMITTED

    @factory.post_generation
    def topics(paper, create, extracted, **kwargs):
        if create and extracted:
            paper.topics.set(extracted)


class PaperAuthorFactory(DjangoModelFactory):
    """An author of a paper; linked to an account only when `user=` is given."""

    class Meta:
        model = PaperAuthor

    paper = factory.SubFactory(PaperFactory)
    order = factory.Sequence(int)
    name = "A. Author"
    email = factory.Sequence(lambda n: f"author{n}@uni{n}.edu")
    affiliation = "Some University"
    user = None


class PaperVersionFactory(DjangoModelFactory):
    """A version whose check passed. Its files are placeholders: `make_paper` stores real PDFs."""

    class Meta:
        model = PaperVersion

    paper = factory.SubFactory(PaperFactory)
    number = 1
    original = factory.django.FileField(data=b"%PDF-1.4\n%placeholder\n", filename="paper.pdf")
    original_name = "paper.pdf"
    size = factory.LazyAttribute(lambda o: o.original.size)
    check_state = PaperVersion.CheckState.PASSED


def make_paper(workshop, number, title, abstract, authors, topics=(), status=Paper.Status.SUBMITTED) -> Paper:
    """A paper as reviewers get it: `authors` is a list of (name, e-mail, affiliation, user or None);
    its first version holds a real PDF (the first author's name in its metadata) and the anonymised
    review copy the paper side makes of it."""
    from conference.pdfcheck import make_review_copy
    from tests.pdf_factory import paper_pdf

    paper = PaperFactory(
        workshop=workshop, number=number, title=title, abstract=abstract, status=status, topics=topics
    )
    for order, (name, email, affiliation, user) in enumerate(authors):
        PaperAuthorFactory(
            paper=paper, order=order, name=name, email=email, affiliation=affiliation, user=user
        )
    original = paper_pdf(body_pages=1, reference_pages=1, title=title, meta_author=authors[0][0])
    with tempfile.TemporaryDirectory() as tmp:
        source, copy = Path(tmp) / "o.pdf", Path(tmp) / "c.pdf"
        source.write_bytes(original)
        make_review_copy(source, copy)
        version = PaperVersion(
            paper=paper,
            number=1,
            original_name=f"{authors[0][0]}.pdf",
            check_state=PaperVersion.CheckState.PASSED,
            size=len(original),
        )
        with open(source, "rb") as o, open(copy, "rb") as c:
            version.original.save("x.pdf", File(o), save=False)
            version.review_copy.save("y.pdf", File(c), save=False)
        version.save()
    return paper


# --- Reviewing -------------------------------------------------------------------------------------
class AssignmentFactory(DjangoModelFactory):
    """A committed assignment ("Reviewer n" of the paper); `state="proposed"` for a chair's preview."""

    class Meta:
        model = Assignment

    paper = factory.SubFactory(PaperFactory)
    user = factory.SubFactory(UserFactory)
    state = Assignment.State.COMMITTED
    number = factory.Sequence(lambda n: n + 1)
    committed_at = factory.LazyFunction(timezone.now)


class ReviewFactory(DjangoModelFactory):
    """A submitted review; `state="draft"` for one still being written."""

    class Meta:
        model = Review

    assignment = factory.SubFactory(AssignmentFactory)
    rating = Review.Rating.BORDERLINE
    confidence = Review.Confidence.CONFIDENT
    strengths = "Clear writing."
    weaknesses = "Few baselines."
    comments_to_authors = "Please add latency on more phones."
    state = Review.State.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)


class ConflictFactory(DjangoModelFactory):
    """A conflict the reviewer declared, confirmed."""

    class Meta:
        model = Conflict

    paper = factory.SubFactory(PaperFactory)
    user = factory.SubFactory(UserFactory)
    source = Conflict.Source.REVIEWER
    state = Conflict.State.CONFIRMED


class BidFactory(DjangoModelFactory):
    class Meta:
        model = Bid

    paper = factory.SubFactory(PaperFactory)
    user = factory.SubFactory(UserFactory)
    value = Bid.Value.EAGER


class DecisionFactory(DjangoModelFactory):
    """An accept decision, not released (give `released_at=` to release it)."""

    class Meta:
        model = Decision

    paper = factory.SubFactory(PaperFactory)
    outcome = Decision.Outcome.ACCEPT
    released_at = None


# --- Challenges ------------------------------------------------------------------------------------
class ChallengeFactory(DjangoModelFactory):
    class Meta:
        model = Challenge

    workshop = factory.SubFactory(WorkshopFactory)
    slug = factory.Sequence(lambda n: f"track-{n}")
    title = factory.Sequence(lambda n: f"Track {n}")


class MilestoneFactory(DjangoModelFactory):
    """`MilestoneFactory(challenge=c, kind="train_data", at=…)` (default: a day ago)."""

    class Meta:
        model = Milestone

    challenge = factory.SubFactory(ChallengeFactory)
    kind = Milestone.Kind.TRAIN_DATA
    at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


class DataFileFactory(DjangoModelFactory):
    """A data file of a split (its content a placeholder)."""

    class Meta:
        model = DataFile

    challenge = factory.SubFactory(ChallengeFactory)
    split = DataFile.Split.TRAIN
    title = factory.LazyAttribute(lambda o: DataFile.Split(o.split).label)
    file = factory.django.FileField(data=b"PK\x05\x06" + b"\0" * 18, filename="data.zip")
    size = 22


class RegistrationFactory(DjangoModelFactory):
    """An approved registration (terms accepted now)."""

    class Meta:
        model = Registration
        django_get_or_create = ("challenge", "user")

    challenge = factory.SubFactory(ChallengeFactory)
    user = factory.SubFactory(UserFactory)
    accepted_terms_at = factory.LazyFunction(timezone.now)
    approved = True


class TeamFactory(DjangoModelFactory):
    """A team; `members=[leader, member…]` registers each (approved) and adds them, the first as
    leader and creator."""

    class Meta:
        model = Team
        skip_postgeneration_save = True

    challenge = factory.SubFactory(ChallengeFactory)
    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(team, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for i, user in enumerate(extracted):
            team_join(team, user, leader=i == 0)
        team.created_by = extracted[0]
        team.save(update_fields=["created_by"])


def team_join(team: Team, user, *, leader: bool = False) -> TeamMembership:
    """The user registered for the team's challenge (approved) and in the team."""
    RegistrationFactory(challenge=team.challenge, user=user)
    role = TeamMembership.Role.LEADER if leader else TeamMembership.Role.MEMBER
    return TeamMembership.objects.create(team=team, challenge=team.challenge, user=user, role=role)


class SubmissionFactory(DjangoModelFactory):
    """A validation submission of a team (queued; its file a placeholder zip)."""

    class Meta:
        model = Submission

    team = factory.SubFactory(TeamFactory)
    challenge = factory.SelfAttribute("team.challenge")
    file = factory.django.FileField(data=b"PK\x05\x06" + b"\0" * 18, filename="results.zip")
    original_name = "results.zip"
    size = 22


class FactSheetFactory(DjangoModelFactory):
    """A complete fact sheet of a team (what ranking requires)."""

    class Meta:
        model = FactSheet

    team = factory.SubFactory(TeamFactory)
    challenge = factory.SelfAttribute("team.challenge")
    team_name = factory.SelfAttribute("team.name")
    members = factory.LazyFunction(lambda: [{"name": "X"}])
    contact_name = "X"
    contact_email = "x@example.org"
    method_title = "M"
    method_description = "D"
    architecture_training = "A"
    training_data_hardware = "T"


class CodeSubmissionFactory(DjangoModelFactory):
    """A team's code, given as a repository URL."""

    class Meta:
        model = CodeSubmission

    team = factory.SubFactory(TeamFactory)
    challenge = factory.SelfAttribute("team.challenge")
    repository_url = "https://example.org/code"


# --- Devices and runtime jobs ----------------------------------------------------------------------
class DeviceFactory(DjangoModelFactory):
    """An online Linux device on the worker's own CPU."""

    class Meta:
        model = Device
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"device-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    accelerators = factory.LazyFunction(lambda: ["cpu"])
    status = Device.Status.ONLINE


class RuntimeJobFactory(DjangoModelFactory):
    """A queued "Check my runtime" job of `owner` (its model file a placeholder)."""

    class Meta:
        model = RuntimeJob

    owner = factory.SubFactory(UserFactory)
    device = factory.SubFactory(DeviceFactory)
    model_file = factory.django.FileField(data=b"TFL3", filename="model.tflite")
    model_name = "model.tflite"
    model_size = 4
    accelerator = "cpu"
