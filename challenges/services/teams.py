"""Teams: create, join by code, invite by e-mail (bound to a verified address), accept, leave; while
the timeline lets teams change."""

import datetime as dt

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.urls import absolute_url
from conference.mail import mail_enqueue

from .. import selectors
from ..models import Challenge, Team, TeamInvitation, TeamMembership
from .base import ChallengeError, require_participant, require_teams_editable


@transaction.atomic
def team_create(*, challenge: Challenge, user, name: str, now: dt.datetime | None = None) -> Team:
    now = now or timezone.now()
    require_participant(challenge, user)
    require_teams_editable(challenge, now)
    name = " ".join((name or "").split())
    if not (2 <= len(name) <= 80):
        raise ChallengeError("A team name has 2 to 80 characters.")
    if selectors.team_for(user, challenge):
        raise ChallengeError("You are already in a team of this challenge; leave it first.")
    if Team.objects.filter(challenge=challenge, name__iexact=name).exists():
        raise ChallengeError(f"A team named “{name}” already exists in this challenge.")
    try:
        with transaction.atomic():
            team = Team.objects.create(challenge=challenge, name=name, created_by=user)
            TeamMembership.objects.create(
                team=team, challenge=challenge, user=user, role=TeamMembership.Role.LEADER
            )
    except IntegrityError:
        raise ChallengeError(f"A team named “{name}” already exists in this challenge.") from None
    return team


def _join(team: Team, user, now: dt.datetime) -> TeamMembership:
    challenge = team.challenge
    require_participant(challenge, user)
    require_teams_editable(challenge, now)
    current = selectors.team_for(user, challenge)
    if current == team:
        raise ChallengeError(f"You are already in “{team.name}”.")
    if current:
        raise ChallengeError(f"You are already in the team “{current.name}”; leave it first.")
    Team.objects.select_for_update().get(pk=team.pk)  # serialise joins: the size limit holds
    if team.memberships.count() >= challenge.max_team_size:
        raise ChallengeError(f"“{team.name}” is full ({challenge.max_team_size} members at most).")
    return TeamMembership.objects.create(team=team, challenge=challenge, user=user)


@transaction.atomic
def team_join(*, challenge: Challenge, user, code: str, now: dt.datetime | None = None) -> Team:
    team = Team.objects.filter(challenge=challenge, join_code=(code or "").strip()).first()
    if team is None:
        raise ChallengeError("No team of this challenge has that join code.")
    _join(team, user, now or timezone.now())
    return team


@transaction.atomic
def team_invite(*, team: Team, by, email: str, now: dt.datetime | None = None) -> TeamInvitation:
    now = now or timezone.now()
    if not team.memberships.filter(user=by).exists():
        raise ChallengeError("Only members of the team can invite.")
    require_teams_editable(team.challenge, now)
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ChallengeError("Enter an e-mail address.")
    if team.memberships.count() >= team.challenge.max_team_size:
        raise ChallengeError(f"“{team.name}” is full ({team.challenge.max_team_size} members at most).")
    invitation = TeamInvitation.objects.create(team=team, email=email, invited_by=by)
    challenge = team.challenge
    url = reverse(
        "challenges:invitation",
        kwargs={"workshop": challenge.workshop.slug, "challenge": challenge.slug, "token": invitation.token},
    )
    mail_enqueue(
        to=[email],
        subject=f"[{challenge.title}] Join the team “{team.name}”",
        body=render_to_string(
            "challenges/mail/team_invitation.txt",
            {"by": by, "team": team, "challenge": challenge, "url": absolute_url(url)},
        ),
    )
    return invitation


@transaction.atomic
def team_invitation_accept(*, token: str, user, now: dt.datetime | None = None) -> Team:
    invitation = (
        TeamInvitation.objects.select_for_update(of=("self",))
        .select_related("team__challenge")
        .filter(token=token)
        .first()
    )  # locked: two accepts of one link cannot both pass the "used" check
    if invitation is None:
        raise ChallengeError("This invitation link is not valid.")
    if invitation.accepted_at:
        raise ChallengeError("This invitation has already been used.")
    if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
        raise ChallengeError(
            f"This invitation is for {invitation.email}: accept it with an account that has this address, "
            "verified (or ask the team for its join code)."
        )
    _join(invitation.team, user, now or timezone.now())
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return invitation.team


@transaction.atomic
def team_leave(*, challenge: Challenge, user, now: dt.datetime | None = None) -> None:
    require_teams_editable(challenge, now or timezone.now())
    membership = TeamMembership.objects.filter(challenge=challenge, user=user).select_related("team").first()
    if membership is None:
        raise ChallengeError("You are not in a team of this challenge.")
    team = membership.team
    membership.delete()
    remaining = team.memberships.order_by("joined_at")
    if not remaining.exists() and not team.submissions.exists():
        team.delete()
    elif membership.role == TeamMembership.Role.LEADER and remaining.exists():
        first = remaining.first()
        first.role = TeamMembership.Role.LEADER
        first.save(update_fields=["role"])
