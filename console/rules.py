"""Who may use the console (django-rules predicates, used by views and templates).

- Creating an edition (from scratch or by cloning): superusers and chairs of any edition.
- An edition's console (dashboard, call for papers, dates, roles, mail outbox): its chairs
  (`conference.rules.is_chair`, superusers included).
- Answering a role invitation needs only its link; accepting it needs the invited address, verified
  (checked by the service, not here).
"""

import rules

from conference.models import Membership
from conference.rules import is_chair


@rules.predicate
def chairs_any_edition(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    return user.is_superuser or Membership.objects.filter(user=user, role=Membership.Role.CHAIR).exists()


rules.add_perm("console.create_edition", chairs_any_edition)
rules.add_perm("console.manage_workshop", is_chair)
