"""Permission predicates of the camera-ready (django-rules), over `conference.rules`: an accepted
paper's authors work on its camera-ready; the edition's chairs see and manage every one. Reviewers
(who are neither) never reach any of it."""

import rules

from conference.models import Paper
from conference.rules import is_chair, is_paper_author, is_paper_chair


@rules.predicate
def is_accepted(user, paper) -> bool:
    return paper is not None and paper.status == Paper.Status.ACCEPTED


rules.add_perm("cameraready.see", is_accepted & (is_paper_author | is_paper_chair))
rules.add_perm("cameraready.edit", is_accepted & is_paper_author)
rules.add_perm("cameraready.extend", is_accepted & is_paper_chair)
rules.add_perm("cameraready.manage", is_chair)
