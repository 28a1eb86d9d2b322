"""Benchmarks that print a figure, a baseline measured in the same run, and their ratio."""
