"""Read models fed from the event store's notification log, each with its own tracking position."""
