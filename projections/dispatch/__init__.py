"""Dispatch read models: unit locator, incident board, recommendations."""
