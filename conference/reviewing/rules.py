"""Permission predicates of reviewing (django-rules), used by views and templates. The object is a
`Paper` unless the name says otherwise; a conflicted user never passes a paper predicate, chairs
included."""

import rules

from conference.rules import is_chair, is_reviewer

from . import selectors


@rules.predicate
def is_chair_of_paper(user, paper) -> bool:
    return (
        bool(paper) and is_chair(user, paper.workshop) and not selectors.is_conflicted(paper=paper, user=user)
    )


@rules.predicate
def is_assigned_reviewer(user, paper) -> bool:
    if not user or not user.is_authenticated or paper is None:
        return False
    return selectors.assignment_for(paper=paper, user=user) is not None


@rules.predicate
def has_submitted_review(user, paper) -> bool:
    assignment = selectors.assignment_for(paper=paper, user=user) if user and user.is_authenticated else None
    return bool(assignment and hasattr(assignment, "review") and assignment.review.state == "submitted")


@rules.predicate
def is_author_after_release(user, paper) -> bool:
    if not user or not user.is_authenticated or paper is None:
        return False
    if paper.id not in selectors.authored_paper_ids(workshop=paper.workshop, user=user, confirmed_only=True):
        return False
    return selectors.released_decision(paper=paper) is not None


@rules.predicate
def is_author(user, paper) -> bool:
    if not user or not user.is_authenticated or paper is None:
        return False
    return paper.id in selectors.authored_paper_ids(workshop=paper.workshop, user=user, confirmed_only=True)


rules.add_perm("reviewing.chair_workshop", is_chair)
rules.add_perm("reviewing.bid_in_workshop", is_reviewer)
rules.add_perm("reviewing.view_paper", is_chair_of_paper | is_assigned_reviewer)
rules.add_perm("reviewing.view_supplementary", is_chair_of_paper | is_assigned_reviewer)
rules.add_perm("reviewing.write_review", is_assigned_reviewer)
rules.add_perm("reviewing.read_reviews", is_chair_of_paper | has_submitted_review)
rules.add_perm("reviewing.discuss", is_chair_of_paper | has_submitted_review)
rules.add_perm("reviewing.decide", is_chair_of_paper)
rules.add_perm("reviewing.read_released_reviews", is_author_after_release)
rules.add_perm("reviewing.declare_conflicts", is_author)
