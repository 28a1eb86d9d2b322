"""Store configuration and raw reads of the event log."""
