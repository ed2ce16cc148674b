"""The predicates of `evaluation/rules.py` asked directly: a runtime job's owner, another participant,
staff and an anonymous visitor. (Kept beside the evaluation folder while its tests are reworked.)"""

from types import SimpleNamespace

import pytest
import rules
from django.contrib.auth.models import AnonymousUser

from evaluation.rules import is_job_owner, is_staff
from tests.factories import RuntimeJobFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PEOPLE = ["owner", "other", "staff", "anonymous"]


@pytest.fixture
def cast():
    job = RuntimeJobFactory()
    return SimpleNamespace(
        job=job,
        owner=job.owner,
        other=UserFactory(),
        staff=UserFactory(is_staff=True),
        anonymous=AnonymousUser(),
    )


def who_passes(predicate, cast, *args) -> set[str]:
    return {name for name in PEOPLE if predicate(getattr(cast, name), *args)}


def test_a_job_is_its_owners(cast):
    assert who_passes(is_job_owner, cast, cast.job) == {"owner"}
    assert is_job_owner(cast.owner, None) is False
    ownerless = RuntimeJobFactory(owner=None, device=cast.job.device)  # e.g. a final-phase measurement
    assert who_passes(is_job_owner, cast, ownerless) == set()


def test_staff(cast):
    assert who_passes(is_staff, cast) == {"staff"}


def test_permissions(cast):
    assert who_passes(
        lambda u, job: rules.has_perm("evaluation.view_runtimejob", u, job), cast, cast.job
    ) == {
        "owner",
        "staff",
    }
    assert who_passes(lambda u: rules.has_perm("evaluation.run_runtime_check", u), cast) == {
        "owner",
        "other",
        "staff",
    }
