"""Double-blind reviewing: committee, conflicts, bidding, assignment, reviews, discussion, decisions."""
