"""Logical networks: realised as one libvirt network per host.

A network of a data center becomes, on every up host of that data center, a
libvirt network named ``pt-net-<network id>``, the same everywhere so guests
can move between hosts (hypervisor.network describes both kinds):

- untagged: an isolated libvirt network owning the Linux bridge ``network.bridge``;
- with a VLAN: a libvirt network on the hosts' Open vSwitch bridge
  ``network.bridge`` (default ``ovsbr0``), whose guest ports libvirt makes
  access ports of that VLAN. The hosts must have that bridge (an admin sets it
  up with its uplink, as oVirt's hosts have theirs); a host without it cannot
  carry the network and goes non_operational, saying so. Linux bridges cannot
  tag through libvirt, and these hosts' kernels lack 802.1Q besides.

Statuses: unattached -> (attach job: locked) -> active; a failed attach leaves
the network inactive, from which it can be attached again. Detaching (from
active or inactive: a job) removes the libvirt network from every host of the
data center and leaves it unattached. A network that VMs' NICs use can be
neither detached nor removed; an attached one must be detached before it is
removed, or before its bridge, VLAN or MTU change. A host on which an active
network cannot be created, or is found missing, goes non_operational saying
which network is missing and why.
"""

from __future__ import annotations

import re

from django.db import models, transaction

import hypervisor
from core.errors import Conflict, InvalidInput
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from core.objects import object_create, object_remove, object_update
from core.status import StatusKind, status_change
from hypervisor.network import (
    BridgeNetworkSpec,
    check_openvswitch_bridge,
    ensure_bridge_network,
    list_networks,
    remove_network,
)
from inventory.choices import HostStatus
from inventory.choices import NetworkStatus
from inventory.models import DataCenter, Host, Network
from inventory.models.network import BRIDGE_NAME_MAX
from inventory.services.attachment import (
    Attachable,
    attachment_lock,
    attachment_locked,
    attachment_unlock_after_failure,
)
from inventory.services.hosts import host_call, host_set_status

NETWORK_PREFIX = "pt-net-"
# The Open vSwitch bridge a VLAN network is put on when no bridge is given.
VLAN_BRIDGE_DEFAULT = "ovsbr0"
ATTACHABLE_STATES = (NetworkStatus.UNATTACHED, NetworkStatus.INACTIVE)
# Inactive too: a network whose attach failed must not be stuck half-attached.
DETACHABLE_STATES = (NetworkStatus.ACTIVE, NetworkStatus.INACTIVE)
# What the hosts were told: changed only while no host has the network.
FIELDS_CHANGED_ONLY_UNATTACHED = ("bridge", "vlan", "mtu", "data_center")
_NOT_IN_BRIDGE = re.compile(r"[^a-zA-Z0-9_.-]+")
NETWORK_STATUS = StatusKind(
    type="network", noun="Network", choices=NetworkStatus, severities={NetworkStatus.INACTIVE: Severity.WARNING},
)
_ACRONYMS = {"vm": "VM", "vms": "VMs", "nic": "NIC", "nics": "NICs"}


def network_libvirt_name(network: Network) -> str:
    """The libvirt network that realises ``network`` on each host. Guests'
    NICs must join it by this name (not by bridge): only then does libvirt
    tag their ports with the network's VLAN."""
    return f"{NETWORK_PREFIX}{network.pk}"


def network_spec(network: Network) -> BridgeNetworkSpec:
    try:
        return BridgeNetworkSpec(
            name=network_libvirt_name(network), bridge=network.bridge, mtu=network.mtu, vlan=network.vlan
        )
    except hypervisor.InvalidSpec as error:
        raise InvalidInput(f"Network {network.name}: {error.message}") from error


def bridge_name_for(name: str) -> str:
    """A Linux bridge name derived from a network name: the characters a bridge
    name may hold, at most 15 of them ("VM Network" -> "VM-Network")."""
    bridge = _NOT_IN_BRIDGE.sub("-", name.strip()).strip("-.")[:BRIDGE_NAME_MAX].rstrip("-.")
    if not bridge:
        raise InvalidInput(f"No bridge name can be derived from the network name {name!r}; give one.")
    return bridge


def default_bridge(*, name: str, vlan: int | None) -> str:
    """The bridge of a network given none: the hosts' Open vSwitch bridge for a
    VLAN network, else one derived from its name."""
    return VLAN_BRIDGE_DEFAULT if vlan is not None else bridge_name_for(name)


def network_bridge_problem(*, data_center: DataCenter, bridge: str, vlan: int | None, name: str,
                           exclude_pk: int | None = None) -> str:
    """Why ``bridge`` (with ``vlan``) cannot be this network's in the data
    center, or "": an untagged network has its Linux bridge to itself; tagged
    networks share an Open vSwitch bridge, one VLAN each; a bridge is never both."""
    others = Network.objects.filter(data_center=data_center, bridge=bridge).exclude(pk=exclude_pk)
    for other_name, other_vlan in others.values_list("name", "vlan"):
        if vlan is None or other_vlan is None:
            if vlan is None and other_vlan is None:
                return (f"The bridge {bridge} is already network {other_name}'s in data center {data_center.name}; "
                        "give this network another bridge name.")
            return (f"The bridge {bridge} is already network {other_name}'s in data center {data_center.name} "
                    f"({'with' if other_vlan is not None else 'without'} a VLAN): a bridge carries either one "
                    "untagged network (a Linux bridge) or VLAN networks (an Open vSwitch bridge), not both.")
        if other_vlan == vlan:
            return (f"Network {other_name} already carries VLAN {vlan} on the bridge {bridge} in data center "
                    f"{data_center.name}; give this network another VLAN or bridge.")
    return ""


def network_create(
    *, data_center: DataCenter, name: str, user, description: str = "", vm_network: bool = True,
    vlan: int | None = None, mtu: int = 1500, bridge: str = "",
) -> Network:
    """Create an unattached network; the bridge name defaults to one derived from
    the name (the hosts' Open vSwitch bridge for a VLAN network) and must not
    be taken (network_bridge_problem)."""
    bridge = bridge or default_bridge(name=name, vlan=vlan)
    network = Network(
        data_center=data_center, name=name, description=description, vm_network=vm_network,
        vlan=vlan, mtu=mtu, bridge=bridge,
    )
    _full_clean(network)
    if Network.objects.filter(data_center=data_center, name=name).exists():
        raise Conflict(f"Data center {data_center.name} already has a network named {name}.")
    problem = network_bridge_problem(data_center=data_center, bridge=bridge, vlan=vlan, name=name)
    if problem:
        raise Conflict(problem)
    fields = dict(
        data_center=data_center, name=name, description=description, vm_network=vm_network,
        vlan=vlan, mtu=mtu, bridge=bridge,
    )
    return object_create(model=Network, fields=fields, user=user)


def network_update(*, network: Network, fields: dict, user) -> Network:
    """Edit a network. Its bridge, VLAN, MTU and data center are what the hosts
    were told: they change only while it is unattached (400 otherwise, saying
    to detach it first). A blank bridge is derived as on creation."""
    fields = dict(fields)
    name = fields.get("name", network.name)
    vlan = fields.get("vlan", network.vlan)
    if "bridge" in fields and not fields["bridge"]:
        fields["bridge"] = default_bridge(name=name, vlan=vlan)
    changing = [f for f in FIELDS_CHANGED_ONLY_UNATTACHED if f in fields and fields[f] != getattr(network, f)]
    if changing:
        current = Network.objects.filter(pk=network.pk).values_list("status", flat=True).first() or network.status
        if current != NetworkStatus.UNATTACHED:
            what = " and ".join(_field_label(f) for f in changing)
            busy = " and a job is working on it" if current == NetworkStatus.LOCKED else ""
            raise InvalidInput(
                f"Network {network.name} is {NetworkStatus.label(current).lower()}{busy}: its {what} cannot "
                f"change while hosts have it. Detach it first (its hosts drop it), then change its {what} "
                "and attach it again."
            )
        data_center = fields.get("data_center", network.data_center)
        bridge = fields.get("bridge", network.bridge)
        problem = network_bridge_problem(data_center=data_center, bridge=bridge, vlan=vlan, name=name,
                                         exclude_pk=network.pk)
        if problem:
            raise Conflict(problem)
    candidate = Network(**{f.attname: getattr(network, f.attname) for f in Network._meta.concrete_fields})
    for key, value in fields.items():
        setattr(candidate, key, value)
    _full_clean(candidate)
    return object_update(obj=network, fields=fields, user=user)


def network_usage(network: Network) -> list[tuple[str, int, list[str]]]:
    """What refers to the network and forbids its removal (PROTECT foreign
    keys, e.g. the vms app's VM NICs): (what, how many, up to 5 of them).
    Asked through the model's reverse relations, so inventory never imports
    the apps above it."""
    found = []
    for relation in Network._meta.related_objects:
        if getattr(relation, "on_delete", None) is not models.PROTECT:
            continue
        rows = relation.related_model._base_manager.filter(**{relation.field.name: network})
        count = rows.count()
        if count:
            meta = relation.related_model._meta
            noun = str(meta.verbose_name if count == 1 else meta.verbose_name_plural)
            noun = " ".join(_ACRONYMS.get(word, word) for word in noun.split())
            found.append((noun, count, [str(row) for row in rows[:5]]))
    return found


def _refuse_if_used(network: Network, action: str) -> None:
    usage = network_usage(network)
    if not usage:
        return
    parts = []
    for noun, count, examples in usage:
        more = ", ..." if count > len(examples) else ""
        parts.append(f"{count} {noun} ({', '.join(examples)}{more})")
    raise Conflict(
        f"Network {network.name} cannot be {action}: {' and '.join(parts)} use it. "
        "Remove those NICs or move them to another network first."
    )


def network_remove(*, network: Network, user) -> None:
    """Remove an unattached network that nothing uses (409 otherwise, saying why)."""
    _refuse_if_used(network, "removed")
    current = Network.objects.filter(pk=network.pk).values_list("status", flat=True).first() or network.status
    if current != NetworkStatus.UNATTACHED:
        raise Conflict(
            f"Network {network.name} is {NetworkStatus.label(current).lower()}: detach it first, "
            "so that its hosts drop it, then remove it."
        )
    object_remove(obj=network, user=user)  # a NIC added meanwhile: ProtectedError becomes a Conflict there


def network_set_status(
    *, network: Network, status: str, expected: str, reason: str = "", user=None, job: Job | None = None,
) -> bool:
    """Compare-and-swap the network's status through core.status. Returns
    whether it changed."""
    return status_change(network, kind=NETWORK_STATUS, to=status, expected=expected, reason=reason,
                         user=user, job=job)


def network_attach(*, network: Network, user) -> Job:
    """Lock the network and start the job that creates it on every up host of
    its data center (one step per host)."""
    network_spec(network)  # refuse a network that cannot be realised before locking it
    hosts = _up_hosts_of(network.data_center)
    with transaction.atomic():
        attachment_lock(NETWORKS, network, allowed=ATTACHABLE_STATES, user=user,
                        why=f"attaching it to the hosts of data center {network.data_center.name}",
                        refusal="only an unattached or inactive network can be attached")
        return job_create(
            title=f"Attach network {network.name}",
            task="network.attach",
            steps=[_create_step(host) for host in hosts],
            target=network,
            user=user,
        )


def network_attach_run(run: JobRun) -> None:
    network = attachment_locked(NETWORKS, run)
    spec = network_spec(network)
    done, failures = [], []
    for host in _up_hosts_of(network.data_center):
        try:
            with run.step(_create_step(host)):
                host_call(host, ensure_bridge_network, spec)
            done.append(host.name)
        except hypervisor.HypervisorError as error:
            failures.append(error.message)
            host_set_status(
                host=host, status=HostStatus.NON_OPERATIONAL, expected=HostStatus.UP,
                reason=f"network {network.name} missing: {error.message}",
            )
    if not done:
        raise Conflict(f"Network {network.name} could not be created on any host: {'; '.join(failures)}")
    where = f"host(s) {', '.join(done)}"
    if network.vlan is not None:
        reason = f"VLAN {network.vlan} is tagged on the Open vSwitch bridge {network.bridge} of {where}"
    else:
        reason = f"bridge {network.bridge} is on {where}"
    network_set_status(
        network=network, status=NetworkStatus.ACTIVE, expected=NetworkStatus.LOCKED,
        reason=reason, user=run.job.user, job=run.job,
    )


def network_attach_failed(run: JobRun, message: str) -> None:
    """A failed attach leaves the network inactive (never locked), saying why."""
    attachment_unlock_after_failure(NETWORKS, run, message)


def network_detach(*, network: Network, user) -> Job:
    """Lock the network and start the job that removes it from every host of
    its data center (whatever their status: one in maintenance has it too) and
    leaves it unattached. Refused while VMs' NICs use it."""
    _refuse_if_used(network, "detached")
    hosts = _all_hosts_of(network.data_center)
    with transaction.atomic():
        was = attachment_lock(NETWORKS, network, allowed=DETACHABLE_STATES, user=user,
                              why=f"detaching it from the hosts of data center {network.data_center.name}",
                              refusal="only an active or inactive network can be detached")
        return job_create(
            title=f"Detach network {network.name}",
            task="network.detach",
            steps=[_remove_step(host) for host in hosts],
            target=network,
            user=user,
            task_args=(was,),
        )


def network_detach_run(run: JobRun, was: str = NetworkStatus.ACTIVE) -> None:
    """Remove the libvirt network from each host. A host that cannot be reached
    keeps it (a warning Event names the host); the job fails only when no host
    could be cleaned at all. A NIC that appeared since the request puts the
    network back as it was, untouched."""
    network = attachment_locked(NETWORKS, run)
    try:
        _refuse_if_used(network, "detached")
    except Conflict:
        network_set_status(network=network, status=was, expected=NetworkStatus.LOCKED,
                           reason="the detach was refused, nothing was changed", user=run.job.user, job=run.job)
        raise
    name = network_libvirt_name(network)
    done, failed = [], []
    for host in _all_hosts_of(network.data_center):
        try:
            with run.step(_remove_step(host)):
                host_call(host, remove_network, name)
            done.append(host.name)
        except hypervisor.HypervisorError as error:
            failed.append(f"{host.name}: {error.message}")
            run.event(
                code="network.host_failed", severity=Severity.WARNING,
                message=(f"Network {network.name} could not be removed from host {host.name} (its libvirt "
                         f"network {name} stays defined there): {error.message}"),
            )
    if failed and not done:
        raise Conflict(f"Network {network.name} could not be removed from any host: {'; '.join(failed)}")
    where = f" from host(s) {', '.join(done)}" if done else " (the data center has no hosts)"
    left = f"; still defined on {', '.join(f.split(':')[0] for f in failed)}" if failed else ""
    network_set_status(
        network=network, status=NetworkStatus.UNATTACHED, expected=NetworkStatus.LOCKED,
        reason=f"removed{where}{left}", user=run.job.user, job=run.job,
    )


def network_detach_failed(run: JobRun, message: str) -> None:
    """A failed detach leaves the network inactive (never locked), saying why."""
    attachment_unlock_after_failure(NETWORKS, run, message)


def network_check_host(*, host: Host) -> list[str]:
    """The names of the active networks of the host's data center that are not
    running on the host as they should (bridge, VLAN, and for a VLAN the Open
    vSwitch bridge itself). When there are any and the host is up, it goes
    non_operational saying which and why. Raises HypervisorError when the host
    cannot be asked."""
    wanted = list(Network.objects.filter(data_center=host.cluster.data_center_id, status=NetworkStatus.ACTIVE))
    if not wanted:
        return []
    found = {info.name: info for info in host_call(host, list_networks)}
    problems = []
    for network in wanted:
        info = found.get(network_libvirt_name(network))
        if info is None:
            problems.append((network.name, f"not defined on host {host.name}"))
        elif info.bridge != network.bridge:
            problems.append((network.name, f"its bridge on host {host.name} is {info.bridge or 'none'}, "
                                            f"not {network.bridge}"))
        elif info.vlan != network.vlan:
            problems.append((network.name, f"on host {host.name} it tags {_vlan_words(info.vlan)}, "
                                            f"not {_vlan_words(network.vlan)}: detach it and attach it again"))
        elif not info.active:
            problems.append((network.name, f"not running on host {host.name}"))
        elif network.vlan is not None:
            try:
                host_call(host, check_openvswitch_bridge, network.bridge, mtu=network.mtu)
            except hypervisor.Conflict as error:
                problems.append((network.name, error.message))
            except hypervisor.NotSupported:
                pass  # a host without libvirt's interface driver: its guests' start will tell
    if problems and host.status == HostStatus.UP:
        host_set_status(
            host=host, status=HostStatus.NON_OPERATIONAL, expected=HostStatus.UP,
            reason="; ".join(f"network {name} missing: {why}" for name, why in problems),
        )
    return [name for name, _why in problems]


def _vlan_words(vlan: int | None) -> str:
    return f"VLAN {vlan}" if vlan is not None else "no VLAN"


def _field_label(field: str) -> str:
    return {"vlan": "VLAN", "mtu": "MTU", "data_center": "data center"}.get(field, field)


def _full_clean(network: Network) -> None:
    try:
        network.full_clean(exclude=["data_center"], validate_unique=False, validate_constraints=False)
    except Exception as error:  # django ValidationError: say which fields and why
        messages = getattr(error, "message_dict", {"__all__": [str(error)]})
        raise InvalidInput(
            "; ".join(f"{field}: {' '.join(texts)}" for field, texts in sorted(messages.items()))
        ) from error


def _create_step(host: Host) -> str:
    return f"Create network on {host.name}"


def _remove_step(host: Host) -> str:
    return f"Remove network from {host.name}"


def _up_hosts_of(data_center: DataCenter) -> list[Host]:
    hosts = list(
        Host.objects.filter(cluster__data_center=data_center, status=HostStatus.UP)
        .select_related("cluster__data_center").order_by("name")
    )
    if not hosts:
        raise Conflict(
            f"Data center {data_center.name} has no host up to create the network on. "
            "Bring a host of the data center up first."
        )
    return hosts


def _all_hosts_of(data_center: DataCenter) -> list[Host]:
    return list(Host.objects.filter(cluster__data_center=data_center).select_related("cluster__data_center")
                .order_by("name"))


NETWORKS = Attachable(
    model=Network, noun="Network", set_status=lambda network, **change: network_set_status(network=network, **change)
)

