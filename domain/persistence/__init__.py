"""The event-store side of the application: saves, cache, transcodings."""
