"""The discussion of a paper among its reviewers (shown as "Reviewer n") and the chairs (shown as
"Chair"), and the chair's meta-review."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from conference.models import Paper

from .. import selectors
from ..models import Comment, MetaReview


def comment_post(*, paper: Paper, user, text: str, as_chair: bool) -> Comment:
    """Adds a message to the paper's thread under the author's pseudonym (never their name)."""
    text = text.strip()
    if not text:
        raise ValidationError("The message is empty.")
    if as_chair:
        shown_as = "Chair"
    else:
        assignment = selectors.assignment_for(paper=paper, user=user)
        if assignment is None:
            raise ValidationError("Only the paper's reviewers and the chairs take part in its discussion.")
        shown_as = assignment.pseudonym
    return Comment.objects.create(paper=paper, user=user, shown_as=shown_as, text=text)


def meta_review_save(*, paper: Paper, user, text: str) -> MetaReview:
    meta, _ = MetaReview.objects.update_or_create(paper=paper, defaults={"user": user, "text": text.strip()})
    return meta
