"""Hypothesis profile of the fuzz tests: a fixed example budget and no deadline (a
shared CI machine must not turn slowness into failures)."""
from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("blackbull-fuzz", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("blackbull-fuzz")
