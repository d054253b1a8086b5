"""The Storage Pool Manager: one host per data center manages storage metadata."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from core.errors import Conflict
from core.events import event_record
from core.models import Severity
from inventory.choices import HostStatus
from inventory.models import SPM_NEVER, DataCenter, Host


def spm_review(*, data_center: DataCenter) -> Host | None:
    """Keep one SPM per data center: the up host with the highest priority
    (-1 never). Hand the role over when the SPM host is no longer up."""
    with transaction.atomic():
        data_center = DataCenter.objects.select_for_update().get(pk=data_center.pk)
        current = data_center.spm_host
        if current is not None and current.status == HostStatus.UP:
            return current
        candidate = (
            Host.objects.filter(cluster__data_center=data_center, status=HostStatus.UP)
            .exclude(spm_priority=SPM_NEVER)
            .order_by(F("spm_priority").desc(), "name")
            .first()
        )
        if candidate == current:
            return current
        data_center.spm_host = candidate
        data_center.save(update_fields=["spm_host"])
    if candidate is None:
        event_record(
            code="spm.none", severity=Severity.WARNING, target=data_center,
            message=f"Data center {data_center.name} has no SPM: no eligible host is up.",
        )
    else:
        event_record(
            code="spm.elected", target=data_center,
            message=f"Host {candidate.name} is now the SPM of data center {data_center.name}.",
        )
    return candidate


def spm_required(*, data_center: DataCenter) -> Host:
    """The data center's SPM host, through which its storage is managed, or
    Conflict saying there is none up."""
    spm = spm_review(data_center=data_center)
    if spm is None:
        raise Conflict(
            f"Data center {data_center.name} has no SPM host up; storage domains are managed through it. "
            "Bring a host of the data center up first."
        )
    return spm
