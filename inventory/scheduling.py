"""Scheduling policy parameters: oVirt's names, defaults and accepted ranges
(DOMAIN.md). A cluster stores only the parameters of its policy."""

from __future__ import annotations

from core.errors import InvalidInput
from inventory.choices import SchedulingPolicy

# name: (default, minimum, maximum). LowUtilization's range ends below
# HighUtilization's, so the two can never cross.
Parameter = tuple[int, int, int]
HIGH_UTILIZATION: Parameter = (80, 50, 100)
LOW_UTILIZATION: Parameter = (20, 0, 49)
CPU_OVERCOMMIT_DURATION_MINUTES: Parameter = (2, 1, 99)

PARAMETERS: dict[str, dict[str, Parameter]] = {
    SchedulingPolicy.NONE: {},
    SchedulingPolicy.CLUSTER_MAINTENANCE: {},
    SchedulingPolicy.EVENLY_DISTRIBUTED: {
        "HighUtilization": HIGH_UTILIZATION,
        "CpuOverCommitDurationMinutes": CPU_OVERCOMMIT_DURATION_MINUTES,
    },
    SchedulingPolicy.POWER_SAVING: {
        "HighUtilization": HIGH_UTILIZATION,
        "LowUtilization": LOW_UTILIZATION,
        "CpuOverCommitDurationMinutes": CPU_OVERCOMMIT_DURATION_MINUTES,
    },
    SchedulingPolicy.VM_EVENLY_DISTRIBUTED: {
        "HighVmCount": (10, 1, 1000),
        "MigrationThreshold": (5, 1, 1000),
        "SpmVmGrace": (5, 0, 1000),
    },
}


def scheduling_parameters_clean(*, policy: str, given: dict) -> dict:
    """The policy's parameters with defaults filled in; unknown names and
    values out of range are refused with a message naming them."""
    known = PARAMETERS[policy]
    unknown = sorted(set(given) - set(known))
    if unknown:
        accepted = ", ".join(known) or "none"
        raise InvalidInput(f"Unknown for policy {policy}: {', '.join(unknown)} (accepted: {accepted}).")
    cleaned = {}
    for name, (default, low, high) in known.items():
        value = given.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name} must be a whole number from {low} to {high}, not {value!r}.")
        cleaned[name] = value
    return cleaned
