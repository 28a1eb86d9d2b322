"""Audit: the hash chain over the log and the request each command ran for."""
