"""Fencing: power-cycling, through its BMC, a host that stopped answering.

A host non_responsive for longer than FENCE_GRACE_SECONDS, with power
management enabled, is fenced by the periodic monitor (hosts_fence_due): its
power status is read, it is powered off, the BMC must then REPORT it off (the
confirmation: only then can nothing of it still be running), and it is powered
on again. Up to FENCE_ATTEMPTS tries; a host is fenced at most once per
FENCE_QUIET_SECONDS (oVirt's quiet time), so a host that keeps failing is not
power-cycled in a loop. Every step is an event.

Only a confirmed fence tells the higher apps (register_host_fenced_handler:
the vms app marks the host's VMs down and restarts the highly available ones
elsewhere): before it, the host may still run them and a second copy would
corrupt their disks (split brain). Without power management the host stays
non_responsive until an admin vouches that it was rebooted
(host_confirm_rebooted), which tells the handlers the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import Conflict, InvalidInput, PortalError
from core.events import event_record
from core.jobs import JobRun, job_create
from core.models import Job, Severity
from inventory import bmc
from inventory.choices import HostStatus
from inventory.models import Host
from inventory.services.power import bmc_errors, host_power_settings

logger = logging.getLogger(__name__)

FENCE_ATTEMPTS = 3
POWER_OFF_WAIT_SECONDS = 30  # for the BMC to report the chassis off after "power off"
POWER_POLL_SECONDS = 1.0

FencedHandler = Callable[[Host, str], None]
_fenced_handlers: list[FencedHandler] = []


def register_host_fenced_handler(handler: FencedHandler) -> None:
    """``handler(host, why)`` runs once the host is known to run nothing."""
    _fenced_handlers.append(handler)


def _host_is_dead(host: Host, why: str) -> None:
    for handler in _fenced_handlers:
        handler(host, why)


def host_fence(*, host: Host, user=None) -> None:
    """Power-cycle the host through its BMC, confirming it went off before
    anything else happens; PortalError (with an event) when it could not."""
    if not (host.pm_enabled and host.pm_address):
        raise Conflict(f"Host {host.name} has no power management enabled: it cannot be fenced. Check it by "
                       "hand, then confirm it has been rebooted.")
    Host.objects.filter(pk=host.pk).update(last_fenced_at=timezone.now())
    settings_ = host_power_settings(host)
    last_error = ""
    for attempt in range(1, FENCE_ATTEMPTS + 1):
        try:
            with bmc_errors():
                before = bmc.power_status(settings_)
                bmc.power_action(settings_, "off")
                _wait_for(settings_, "off")
                event_record(code="host.fence_off", target=host, user=user, severity=Severity.WARNING,
                             message=f"Host {host.name} was fenced: powered off through BMC {settings_.endpoint} "
                                     f"(it was {before}), and the BMC confirms it is off.")
                _host_is_dead(host, f"host {host.name} was fenced (powered off through its BMC)")
                bmc.power_action(settings_, "on")
        except PortalError as error:
            last_error = error.detail
            event_record(code="host.fence_failed", target=host, user=user, severity=Severity.ERROR,
                         message=f"Fencing host {host.name}, attempt {attempt} of {FENCE_ATTEMPTS}: {last_error}")
            continue
        event_record(code="host.fenced", target=host, user=user,
                     message=f"Host {host.name} was power-cycled through its BMC; it is starting again and comes "
                             "back up once its libvirtd answers.")
        return
    raise Conflict(f"Host {host.name} could not be fenced after {FENCE_ATTEMPTS} attempts: {last_error}")


def _wait_for(settings_, state: str) -> None:
    deadline = time.monotonic() + POWER_OFF_WAIT_SECONDS
    while bmc.power_status(settings_) != state:
        if time.monotonic() > deadline:
            raise bmc.BmcError(f"BMC {settings_.endpoint} still reports power not {state} after "
                               f"{POWER_OFF_WAIT_SECONDS} s")
        time.sleep(POWER_POLL_SECONDS)


def host_confirm_rebooted(*, host: Host, user) -> None:
    """The admin vouches that a non_responsive host without working power
    management was rebooted (or is off): its VMs are no longer running."""
    if host.status != HostStatus.NON_RESPONSIVE:
        raise Conflict(f"Host {host.name} is {HostStatus.label(host.status).lower()}; only a non responsive host's "
                       "reboot can be confirmed.")
    event_record(code="host.confirmed_rebooted", target=host, user=user, severity=Severity.WARNING,
                 message=f"{user} confirmed that host {host.name} has been rebooted: its VMs are treated as down.")
    _host_is_dead(host, f"{user} confirmed host {host.name} has been rebooted")


def hosts_fence_due(*, now=None) -> list[Host]:
    """The monitor's step: fence every host non_responsive beyond the grace
    time, with power management, not fenced within the quiet time."""
    now = now or timezone.now()
    grace, quiet = timedelta(seconds=settings.FENCE_GRACE_SECONDS), timedelta(seconds=settings.FENCE_QUIET_SECONDS)
    due = (Host.objects.filter(status=HostStatus.NON_RESPONSIVE, pm_enabled=True, status_changed_at__lt=now - grace)
           .exclude(pm_address="").exclude(last_fenced_at__gt=now - quiet))
    fenced = []
    for host in due:
        try:
            host_fence(host=host)
        except PortalError as error:
            logger.warning("fencing %s failed: %s", host.name, error.detail)
            continue
        fenced.append(host)
    return fenced


FENCE_ACTIONS = ("status", "start", "stop", "restart")
# These wait for the BMC to report the machine off (up to POWER_OFF_WAIT_SECONDS
# each try): jobs, never inside a request.
FENCE_JOB_ACTIONS = ("stop", "restart")


def host_fence_command(*, host: Host, action: str, user) -> str | Job:
    """hosts/<id>/fence/ (API.md): the host's power status now, or power it on
    now (both bounded by the BMC's timeout); stop and restart are a job (a
    restart is a fence). Returns the power status, or the job."""
    if action not in FENCE_ACTIONS:
        raise InvalidInput(f"Unknown action {action!r}: one of {', '.join(FENCE_ACTIONS)}.")
    if action in FENCE_JOB_ACTIONS:
        if not (host.pm_enabled and host.pm_address):
            raise Conflict(f"Host {host.name} has no power management enabled.")
        title = f"{'Restart (fence)' if action == 'restart' else 'Power off'} host {host.name} through its BMC"
        return job_create(title=title, task="host.fence", steps=[title], target=host, user=user, task_args=(action,))
    settings_ = host_power_settings(host)
    with bmc_errors():
        if action == "start":
            bmc.power_action(settings_, "on")
        status = bmc.power_status(settings_)
    if action == "start":
        event_record(code="host.power_start", target=host, user=user, severity=Severity.WARNING,
                     message=f"Host {host.name} was powered on through its BMC by {user}.")
    return status


def host_fence_run(run: JobRun, action: str) -> None:
    host = Host.objects.get(pk=run.job.target_id)
    user = run.job.user
    with run.step(run.job.steps[0]["name"]):
        if action == "restart":
            host_fence(host=host, user=user)
            return
        settings_ = host_power_settings(host)
        with bmc_errors():
            bmc.power_action(settings_, "off")
            _wait_for(settings_, "off")
        event_record(code="host.power_stop", target=host, user=user, severity=Severity.WARNING,
                     message=f"Host {host.name} was powered off through its BMC by {user}.")
        _host_is_dead(host, f"host {host.name} was powered off through its BMC by {user}")
