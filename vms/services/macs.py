"""MAC addresses from a per-data-center pool.

Each data center owns 56:6f:HH:LL:00:00 - 56:6f:HH:LL:ff:ff, where HHLL is its
id: 0x56 is a locally administered unicast first octet (oVirt's pools start
with 56:6f too), so the addresses never collide with a vendor's, and two data
centers never hand out the same one."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from inventory.models import DataCenter
from vms.models import VmNic

POOL_SIZE = 1 << 16
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def mac_pool_prefix(data_center: DataCenter) -> str:
    if not 0 < data_center.pk < POOL_SIZE:
        raise ValidationError({"nics": f"Data center {data_center.name} has no MAC pool (its id is too large)."})
    high, low = divmod(data_center.pk, 256)
    return f"56:6f:{high:02x}:{low:02x}"


def mac_clean(mac: str) -> str:
    """Lower-case ``mac`` or refuse it saying what a MAC looks like."""
    value = mac.strip().lower().replace("-", ":")
    if not _MAC.match(value):
        raise ValidationError({"nics": f"{mac!r} is not a MAC address of the form 56:6f:00:01:00:0a."})
    if int(value[:2], 16) & 1:
        raise ValidationError({"nics": f"{mac} is a multicast address; a NIC needs a unicast one."})
    return value


def macs_allocate(*, data_center: DataCenter, count: int, taken: set[str] = frozenset()) -> list[str]:
    """The ``count`` lowest free addresses of the data center's pool. The
    database's unique constraint settles a race between two creations."""
    if count == 0:
        return []
    prefix = mac_pool_prefix(data_center)
    used = set(VmNic.objects.filter(data_center=data_center, mac__startswith=prefix).values_list("mac", flat=True))
    used |= set(taken)
    free = []
    for number in range(POOL_SIZE):
        mac = f"{prefix}:{number >> 8:02x}:{number & 0xFF:02x}"
        if mac not in used:
            free.append(mac)
            if len(free) == count:
                return free
    raise ValidationError({"nics": f"The MAC pool of data center {data_center.name} is exhausted."})
