"""End-to-end tests through a real `najda serve` process."""
