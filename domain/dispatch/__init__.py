"""Dispatch: incidents, units, stations, hospitals, plans, crews' commands."""
