"""Permission predicates of the workshop side (django-rules), used by views, API and templates."""

import rules

from .models import Membership, Workshop


@rules.predicate
def is_chair(user, workshop: Workshop | None) -> bool:
    if not user or not user.is_authenticated or workshop is None:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(workshop=workshop, user=user, role=Membership.Role.CHAIR).exists()


@rules.predicate
def is_reviewer(user, workshop: Workshop | None) -> bool:
    if not user or not user.is_authenticated or workshop is None:
        return False
    return Membership.objects.filter(
        workshop=workshop, user=user, role__in=[Membership.Role.REVIEWER, Membership.Role.AREA_CHAIR]
    ).exists()


rules.add_perm("conference.manage_workshop", is_chair)
rules.add_perm("conference.review_in_workshop", is_reviewer | is_chair)


# --- Papers ----------------------------------------------------------------------------------------
# Authors (listed with a linked account, or the submitter) and the edition's chairs see a paper with
# its authors; reviewers never go through these views (reviewing has its own, anonymous ones).


@rules.predicate
def is_paper_author(user, paper) -> bool:
    if not user or not user.is_authenticated or paper is None:
        return False
    return paper.submitter_id == user.pk or paper.authors.filter(user=user).exists()


@rules.predicate
def is_paper_chair(user, paper) -> bool:
    return paper is not None and is_chair(user, paper.workshop)


# (Not Django's model permission names view_paper/change_paper: these always need the paper.)
rules.add_perm("conference.paper_see", is_paper_author | is_paper_chair)
rules.add_perm("conference.paper_edit", is_paper_author)
rules.add_perm("conference.paper_withdraw", is_paper_author | is_paper_chair)
rules.add_perm("conference.paper_extend", is_paper_chair)
