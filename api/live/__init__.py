"""Live updates: the change feed with its resume buffer, websocket channels, AVL ingestion."""
