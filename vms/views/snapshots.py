"""The VM page's Snapshots card and its actions (take, restore, delete).

The card is rendered by the ``vm_snapshots`` template tag (vms/templatetags)
from ``snapshot_card``: which buttons show is decided here, from the
statuses the service accepts (its own constants) and vms.permissions' rule,
never in the template. Each action is a POST that calls one service and
answers with a redirect to the VM page, where the job's bar moves by itself;
a refusal becomes a message there."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from vms import selectors
from vms.forms import SnapshotForm
from vms.models import Vm, VmSnapshot
from vms.permissions import vm_may
from vms.views.jobs import vm_job_answer
from vms.services.snapshots import (
    DELETABLE,
    RESTORABLE,
    SNAPSHOT_FROM,
    SnapshotNode,
    snapshot_create,
    snapshot_delete,
    snapshot_restore,
    snapshot_restore_refusal,
    snapshot_tree,
)


@dataclass(frozen=True)
class SnapshotRow:
    node: SnapshotNode
    may_restore: bool
    may_delete: bool


def snapshot_card(request, vm: Vm) -> dict:
    """What the Snapshots card shows to this user: the tree, its buttons, the form."""
    may = vm_may(request.user, "snapshots", vm) and vm.status in SNAPSHOT_FROM
    rows = [
        SnapshotRow(
            node,
            may_restore=may and node.snapshot.status in RESTORABLE and not snapshot_restore_refusal(node.snapshot),
            may_delete=may and node.snapshot.status in DELETABLE,
        )
        for node in snapshot_tree(vm)
    ]
    return {
        "vm": vm, "rows": rows, "may_create": may, "form": SnapshotForm(vm=vm) if may else None,
        "depth_warning": settings.SNAPSHOT_CHAIN_WARNING_DEPTH,
        "chain_warning": (f"The snapshot chain is deeper than {settings.SNAPSHOT_CHAIN_WARNING_DEPTH}"
                          if any(row.node.too_deep for row in rows) else ""),
    }


@login_required
@require_POST
def vm_snapshot_create(request, pk: int):
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)
    form = SnapshotForm(request.POST, vm=vm)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
        return redirect("vms:vm-detail", vm.pk)

    def start():
        _snapshot, job = snapshot_create(vm=vm, user=request.user, description=form.cleaned_data["description"],
                                         include_memory=form.cleaned_data["include_memory"])
        return job

    return vm_job_answer(request, vm, "snapshots", start)


SNAPSHOT_ACTIONS = {"restore": snapshot_restore, "delete": snapshot_delete}


@login_required
@require_POST
def vm_snapshot_action(request, pk: int, snapshot_pk: int, action: str):
    if action not in SNAPSHOT_ACTIONS:
        raise Http404
    vm = get_object_or_404(selectors.vms_visible_to(request.user), pk=pk)
    snapshot = get_object_or_404(VmSnapshot.objects.select_related("vm"), pk=snapshot_pk, vm=vm)
    return vm_job_answer(request, vm, "snapshots",
                         lambda: SNAPSHOT_ACTIONS[action](snapshot=snapshot, user=request.user))
