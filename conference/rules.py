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
