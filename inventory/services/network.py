"""Logical networks: realised as one isolated libvirt network (owning a Linux
bridge) per host.

A network of a data center becomes, on every up host of that data center, a
libvirt network named ``pt-net-<network id>`` owning the bridge ``network.bridge``
(the same bridge name everywhere, so guests can move between hosts).

Statuses: unattached -> (attach job: locked) -> active; a failed job leaves the
network inactive, from which it can be attached again. A host on which an
active network cannot be created, or is found missing, goes non_operational
saying which network is missing and why. VLAN tags are stored, not realised yet.
"""

from __future__ import annotations

import re

from django.db import transaction

import hypervisor
from core.errors import Conflict, InvalidInput
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from core.updates import publish
from hypervisor.network import BridgeNetworkSpec, ensure_bridge_network, list_networks
from inventory.choices import HostStatus
from inventory.choices import NetworkStatus
from inventory.models import DataCenter, Host, Network
from inventory.models.network import BRIDGE_NAME_MAX
from inventory.services.hosts import CONNECT_TIMEOUT_SECONDS, host_set_status
from inventory.services.objects import object_create

NETWORK_PREFIX = "pt-net-"
ATTACHABLE_STATES = (NetworkStatus.UNATTACHED, NetworkStatus.INACTIVE)
_NOT_IN_BRIDGE = re.compile(r"[^a-zA-Z0-9_.-]+")
_SEVERITY = {NetworkStatus.INACTIVE: Severity.WARNING}


def network_libvirt_name(network: Network) -> str:
    """The libvirt network that realises ``network`` on each host."""
    return f"{NETWORK_PREFIX}{network.pk}"


def network_spec(network: Network) -> BridgeNetworkSpec:
    try:
        return BridgeNetworkSpec(name=network_libvirt_name(network), bridge=network.bridge, mtu=network.mtu)
    except hypervisor.InvalidSpec as error:
        raise InvalidInput(f"Network {network.name}: {error.message}") from error


def bridge_name_for(name: str) -> str:
    """A Linux bridge name derived from a network name: the characters a bridge
    name may hold, at most 15 of them ("VM Network" -> "VM-Network")."""
    bridge = _NOT_IN_BRIDGE.sub("-", name.strip()).strip("-.")[:BRIDGE_NAME_MAX].rstrip("-.")
    if not bridge:
        raise InvalidInput(f"No bridge name can be derived from the network name {name!r}; give one.")
    return bridge


def network_create(
    *, data_center: DataCenter, name: str, user, description: str = "", vm_network: bool = True,
    vlan: int | None = None, mtu: int = 1500, bridge: str = "",
) -> Network:
    """Create an unattached network; the bridge name defaults to one derived from
    the name and must not be another network's of the data center."""
    bridge = bridge or bridge_name_for(name)
    network = Network(
        data_center=data_center, name=name, description=description, vm_network=vm_network,
        vlan=vlan, mtu=mtu, bridge=bridge,
    )
    try:
        network.full_clean(exclude=["data_center"], validate_unique=False, validate_constraints=False)
    except Exception as error:  # django ValidationError: say which fields and why
        messages = getattr(error, "message_dict", {"__all__": [str(error)]})
        raise InvalidInput(
            "; ".join(f"{field}: {' '.join(texts)}" for field, texts in sorted(messages.items()))
        ) from error
    siblings = Network.objects.filter(data_center=data_center)
    if siblings.filter(name=name).exists():
        raise Conflict(f"Data center {data_center.name} already has a network named {name}.")
    holder = siblings.filter(bridge=bridge).values_list("name", flat=True).first()
    if holder is not None:
        raise Conflict(
            f"The bridge {bridge} is already network {holder}'s in data center {data_center.name}; "
            "give this network another bridge name."
        )
    fields = dict(
        data_center=data_center, name=name, description=description, vm_network=vm_network,
        vlan=vlan, mtu=mtu, bridge=bridge,
    )
    return object_create(model=Network, fields=fields, user=user)


def network_set_status(
    *, network: Network, status: str, expected: str, reason: str = "", user=None, job: Job | None = None,
) -> bool:
    """Compare-and-swap the network's status; an Event and a live update follow
    a real change. Returns whether it changed."""
    if not Network.objects.filter(pk=network.pk, status=expected).update(status=status):
        return False
    network.status = status
    because = f": {reason}" if reason else ""
    event_record(
        code=f"network.{status}",
        message=(
            f"Network {network.name} is now {NetworkStatus.label(status).lower()} "
            f"(was {NetworkStatus.label(expected).lower()}){because}"
        ),
        severity=_SEVERITY.get(status, Severity.NORMAL),
        user=user, target=network, job=job,
    )
    publish({"type": "network", "id": network.pk, "status": status})
    return True


def network_attach(*, network: Network, user) -> Job:
    """Lock the network and start the job that creates it on every up host of
    its data center (one step per host)."""
    from inventory.tasks import network_attach_task

    network_spec(network)  # refuse a network that cannot be realised before locking it
    hosts = _hosts_of(network.data_center)
    with transaction.atomic():
        _lock(network, user=user)
        return job_create(
            title=f"Attach network {network.name}",
            task=network_attach_task,
            steps=[_create_step(host) for host in hosts],
            target=network,
            user=user,
        )


def network_attach_run(run: JobRun) -> None:
    network = Network.objects.select_related("data_center").get(pk=run.job.target_id)
    if network.status != NetworkStatus.LOCKED:
        raise Conflict(
            f"Network {network.name} is {NetworkStatus.label(network.status).lower()}, "
            "not locked for this job; nothing was done."
        )
    spec = network_spec(network)
    done, failures = [], []
    for host in _hosts_of(network.data_center):
        try:
            with run.step(_create_step(host)):
                _on_host(host, ensure_bridge_network, spec)
            done.append(host.name)
        except hypervisor.HypervisorError as error:
            failures.append(error.message)
            host_set_status(
                host=host, status=HostStatus.NON_OPERATIONAL, expected=HostStatus.UP,
                reason=f"network {network.name} missing: {error.message}",
            )
    if not done:
        raise Conflict(f"Network {network.name} could not be created on any host: {'; '.join(failures)}")
    network_set_status(
        network=network, status=NetworkStatus.ACTIVE, expected=NetworkStatus.LOCKED,
        reason=f"bridge {network.bridge} is on host(s) {', '.join(done)}", user=run.job.user, job=run.job,
    )


def network_attach_failed(run: JobRun, message: str) -> None:
    """A failed attach leaves the network inactive (never locked), saying why."""
    network = Network.objects.filter(pk=run.job.target_id).first()
    if network is None:
        return  # removed meanwhile: nothing left to unlock
    network_set_status(
        network=network, status=NetworkStatus.INACTIVE, expected=NetworkStatus.LOCKED,
        reason=f"{run.job.title} failed: {message}", user=run.job.user, job=run.job,
    )


def network_check_host(*, host: Host) -> list[str]:
    """The names of the active networks of the host's data center that are not
    running on the host with their bridge. When there are any and the host is
    up, it goes non_operational saying which and why. Raises HypervisorError
    when the host cannot be asked."""
    wanted = list(Network.objects.filter(data_center=host.cluster.data_center_id, status=NetworkStatus.ACTIVE))
    if not wanted:
        return []
    found = {info.name: info for info in _on_host(host, list_networks)}
    problems = []
    for network in wanted:
        info = found.get(network_libvirt_name(network))
        if info is None:
            problems.append((network.name, f"not defined on host {host.name}"))
        elif info.bridge != network.bridge:
            problems.append((network.name, f"its bridge on host {host.name} is {info.bridge or 'none'}, "
                                            f"not {network.bridge}"))
        elif not info.active:
            problems.append((network.name, f"not running on host {host.name}"))
    if problems and host.status == HostStatus.UP:
        host_set_status(
            host=host, status=HostStatus.NON_OPERATIONAL, expected=HostStatus.UP,
            reason="; ".join(f"network {name} missing: {why}" for name, why in problems),
        )
    return [name for name, _why in problems]


def _create_step(host: Host) -> str:
    return f"Create network on {host.name}"


def _hosts_of(data_center: DataCenter) -> list[Host]:
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


def _lock(network: Network, *, user) -> None:
    current = Network.objects.filter(pk=network.pk).values_list("status", flat=True).first()
    if current is None:
        raise Conflict(f"Network {network.name} no longer exists.")
    why = f"attaching it to the hosts of data center {network.data_center.name}, by {user}"
    if current not in ATTACHABLE_STATES or not network_set_status(
        network=network, status=NetworkStatus.LOCKED, expected=current, reason=why, user=user
    ):
        status = Network.objects.filter(pk=network.pk).values_list("status", flat=True).first() or current
        busy = " (another job is working on it)" if status == NetworkStatus.LOCKED else ""
        raise Conflict(
            f"Network {network.name} is {NetworkStatus.label(status).lower()}{busy}; "
            "only an unattached or inactive network can be attached."
        )


def _on_host(host: Host, operation, *args):
    """Run a hypervisor.network operation on a host, naming the host in any error
    (the connection is checked with a timeout first, as for storage)."""
    try:
        hypervisor.check_connection(host.uri, timeout=CONNECT_TIMEOUT_SECONDS)
        return operation(host.uri, *args)
    except hypervisor.HypervisorError as error:
        message = f"Host {host.name}: {error.message}"
        raise type(error)(message, uri=error.uri, transient=error.transient) from error
