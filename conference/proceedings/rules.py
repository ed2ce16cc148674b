"""Permission predicates of the proceedings app (django-rules), used by views and templates. The
public pages (accepted papers, programme, partners) need none beyond the edition being visible."""

import rules

from conference.rules import is_chair

rules.add_perm("proceedings.manage", is_chair)
