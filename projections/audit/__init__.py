"""Audit: seals, witnesses, signed checkpoints, verification, timelines."""
