"""Najda: event-sourced emergency dispatch coordination (one installed package)."""
