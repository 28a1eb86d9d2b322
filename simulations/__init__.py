"""Simulation: scenario sources, a discrete-event simulator over the real application, policies."""
