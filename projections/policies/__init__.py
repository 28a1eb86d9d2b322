"""Dispatch policies, one home for the simulator and the live recommender."""

from najda.projections.policies.dispatch import POLICIES, ClosestIdle, Coverage, Policy, SimView

__all__ = ["POLICIES", "ClosestIdle", "Coverage", "Policy", "SimView"]
