"""Fixtures of the API tests: one edition with a paper under review and a challenge, and a person for
every role the API knows (each with an API token), plus a device host whose device an operator runs."""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from evaluation.models import DeviceHost
from evaluation.tokens import device_host_token
from tests.factories import (
    AssignmentFactory,
    ChallengeFactory,
    ConflictFactory,
    DeviceFactory,
    ImportantDateFactory,
    MembershipFactory,
    MilestoneFactory,
    ReviewFactory,
    RuntimeJobFactory,
    SubmissionFactory,
    TeamFactory,
    TopicFactory,
    WorkshopFactory,
    api_token,
    make_paper,
)

ROLES = [
    "anonymous",
    "author",
    "coauthor",
    "reviewer",
    "conflicted_reviewer",
    "participant",
    "organiser",
    "chair",
    "operator",
    "device_host",
]


@dataclass
class World:
    workshop: object
    paper: object
    challenge: object
    submission: object
    job: object
    users: dict = field(default_factory=dict)  # role → user (None: anonymous, device host)
    headers: dict = field(default_factory=dict)  # role → Authorization header value ("" for none)


@pytest.fixture
def world(make_user) -> World:
    now = timezone.now()
    ws = WorkshopFactory(slug="mai-api", name="Mobile AI API Workshop", short_name="MAI API")
    topic = TopicFactory(workshop=ws, name="Efficient models")
    for kind, days in [("submission_open", -10), ("paper_deadline", 5), ("challenge_paper_deadline", 20)]:
        ImportantDateFactory(workshop=ws, kind=kind, at=now + dt.timedelta(days=days))
    users = {
        "author": make_user(email="ada@lab.example", full_name="Ada Author", affiliation="Lab of Ada"),
        "coauthor": make_user(email="cole@other.example", full_name="Cole Coauthor", affiliation="Other U"),
        "reviewer": make_user(email="rita@review.example", full_name="Rita Reviewer"),
        "conflicted_reviewer": make_user(email="carl@review.example", full_name="Carl Conflicted"),
        "participant": make_user(email="pat@team.example", full_name="Pat Participant"),
        "organiser": make_user(email="olga@org.example", full_name="Olga Organiser"),
        "chair": make_user(email="chad@chairs.example", full_name="Chad Chair"),
        "operator": make_user(email="opal@lab.example", full_name="Opal Operator"),
    }
    paper = make_paper(
        ws,
        1,
        "Fast denoising on phones",
        "We denoise photos on a phone NPU in real time.",
        [
            ("Ada Author", "ada@lab.example", "Lab of Ada", users["author"]),
            ("Cole Coauthor", "cole@other.example", "Other U", users["coauthor"]),
        ],
        topics=[topic],
    )
    paper.submitter = users["author"]
    paper.save(update_fields=["submitter"])
    MembershipFactory(workshop=ws, user=users["chair"], role="chair")
    for role in ("reviewer", "conflicted_reviewer"):
        MembershipFactory(workshop=ws, user=users[role], role="reviewer")
    ReviewFactory(assignment=AssignmentFactory(paper=paper, user=users["reviewer"], number=1))
    ConflictFactory(paper=paper, user=users["conflicted_reviewer"])
    challenge = ChallengeFactory(workshop=ws, slug="denoise", title="Image denoising")
    challenge.organisers.add(users["organiser"])
    MilestoneFactory(challenge=challenge, kind="validation_server", at=now - dt.timedelta(days=5))
    team = TeamFactory(challenge=challenge, name="Night Owls", members=[users["participant"]])
    submission = SubmissionFactory(team=team, submitted_by=users["participant"])
    host = DeviceHost.objects.create(name="api-test-host")
    host.operators.add(users["operator"])
    job = RuntimeJobFactory(
        owner=users["participant"], device=DeviceFactory(slug="api-cpu", device_host=host)
    )
    headers = {role: f"Token {api_token(user)}" for role, user in users.items()}
    headers["anonymous"] = ""
    headers["device_host"] = f"Device {device_host_token('api-test-host')}"
    users["anonymous"] = users["device_host"] = None
    return World(ws, paper, challenge, submission, job, users, headers)
