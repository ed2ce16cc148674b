"""Reviewing models (committee, conflicts, bids, assignments, reviews, decisions)."""
