"""Final-phase models."""
