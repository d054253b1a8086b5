"""What a cluster's migration policy means for one migration (DOMAIN.md).

Pure data: the downtime ladder (the pause the guest may get at switch-over,
raised a step each time the copy stalls) and the last resort once the ladder
is exhausted, as oVirt's four policies define them. hypervisor.migration
carries them out.
"""

from __future__ import annotations

from hypervisor.migration import LastResort, MigrationOptions

MIGRATION_POLICIES: dict[str, dict] = {
    # Give up rather than pause the guest longer than half a second.
    "minimal_downtime": dict(downtime_ladder_ms=(100, 150, 200, 300, 400, 500), last_resort=LastResort.ABORT),
    # Switch to post-copy: the guest runs on the destination at once and fetches
    # the pages it still lacks (a network failure then loses the guest: oVirt's warning).
    "post_copy": dict(downtime_ladder_ms=(100, 150, 200), last_resort=LastResort.POST_COPY),
    # Accept a pause of up to 5 s (the workload is suspended meanwhile).
    # Both also let QEMU throttle a guest that dirties memory faster than it is copied.
    "suspend_workload": dict(downtime_ladder_ms=(100, 150, 200, 300, 400, 500),
                             last_resort=LastResort.LONG_DOWNTIME, final_downtime_ms=5000, auto_converge=True),
    "very_large_vms": dict(downtime_ladder_ms=(300, 400, 500, 700, 1000, 1500),
                           last_resort=LastResort.LONG_DOWNTIME, final_downtime_ms=5000, auto_converge=True),
}


def migration_options(policy: str, *, bandwidth_mib_s: int | None,
                      unsafe_shared_directory: bool) -> MigrationOptions:
    if policy not in MIGRATION_POLICIES:
        raise ValueError(f"Unknown migration policy {policy!r}; known: {', '.join(MIGRATION_POLICIES)}.")
    return MigrationOptions(bandwidth_mib_s=bandwidth_mib_s, unsafe_shared_directory=unsafe_shared_directory, **MIGRATION_POLICIES[policy])
