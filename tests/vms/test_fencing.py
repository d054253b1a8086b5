"""Fencing and HA against OpenIPMI's ipmi_sim (a real BMC protocol, a fake
chassis): a lost host with power management is power-cycled once the grace
time has passed, its VMs are down only once the BMC confirms it off, and the
highly available ones start again on another host; without power management
it waits for the admin to confirm the reboot."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Event, Job, JobStatus
from core.secrets import encrypt_secret
from inventory.choices import HostStatus
from inventory.models import Host
from inventory.services.fencing import hosts_fence_due
from tests.support.jobs import run_job
from tests.vms.factories import vm_world
from tests.vms.test_maintenance import running
from vms.choices import VmStatus
from vms.models import Vm

pytestmark = [pytest.mark.real, pytest.mark.django_db]


@pytest.fixture
def lost(bmc):
    """host1 non responsive for 5 minutes, its BMC the simulated one, running an HA VM and another."""
    world = vm_world(hosts=3)
    host = world["hosts"][0]
    Host.objects.filter(pk=host.pk).update(
        status=HostStatus.NON_RESPONSIVE, status_changed_at=timezone.now() - timedelta(minutes=5),
        pm_enabled=True, pm_agent="ipmilan", pm_address=bmc.address, pm_port=bmc.port,
        pm_username=bmc.username, pm_password_encrypted=encrypt_secret(bmc.password))
    running(world, "ha1", host, 1024, highly_available=True)
    running(world, "plain", host, 1024)
    bmc.set_power_state("on")
    host.refresh_from_db()
    return world, host


def test_a_lost_host_is_fenced_and_its_ha_vm_restarts_elsewhere_only_after_the_bmc_confirms_off(lost, bmc):
    world, host = lost
    assert hosts_fence_due() == [host]

    calls = bmc.chassis_calls()
    assert any("set power 0" in call for call in calls) and bmc.power_state() == "on"  # off, then on again
    ha, plain = Vm.objects.get(name="ha1"), Vm.objects.get(name="plain")
    assert plain.status == VmStatus.DOWN and "fenced" in plain.status_reason
    start = Job.objects.get(kind="vm.start", target_id=str(ha.pk))
    assert ha.host_id != host.pk and ha.status == VmStatus.POWERING_UP and start
    codes = list(Event.objects.order_by("pk").values_list("code", flat=True))
    assert codes.index("host.fence_off") < codes.index("vm.ha_restart") < codes.index("host.fenced")


def test_it_waits_for_the_grace_time_and_keeps_quiet_after_a_fence(lost, settings):
    world, host = lost
    settings.FENCE_GRACE_SECONDS = 600
    assert hosts_fence_due() == []
    settings.FENCE_GRACE_SECONDS = 60
    Host.objects.filter(pk=host.pk).update(last_fenced_at=timezone.now() - timedelta(seconds=30))
    assert hosts_fence_due() == []  # within the quiet time
    assert Vm.objects.get(name="ha1").status == VmStatus.UP


def test_a_bmc_that_does_not_power_off_leaves_the_vms_alone(lost, bmc, monkeypatch):
    world, host = lost
    monkeypatch.setattr("inventory.services.fencing.POWER_OFF_WAIT_SECONDS", 1)
    Host.objects.filter(pk=host.pk).update(pm_password_encrypted=encrypt_secret("wrong"))
    assert hosts_fence_due() == []
    assert Vm.objects.get(name="ha1").status == VmStatus.UP and not Job.objects.filter(kind="vm.start").exists()
    assert Event.objects.filter(code="host.fence_failed").count() == 3


def test_without_power_management_the_admin_confirms_the_reboot(lost, client, admin):
    world, host = lost
    Host.objects.filter(pk=host.pk).update(pm_enabled=False)
    assert hosts_fence_due() == []
    client.force_login(admin)
    page = client.get(reverse("inventory:host-detail", args=[host.pk])).content.decode()
    assert "Confirm host has been rebooted" in page
    client.post(reverse("inventory:host-confirm-rebooted", args=[host.pk]))
    assert Vm.objects.get(name="plain").status == VmStatus.DOWN
    assert Job.objects.filter(kind="vm.start", target_id=str(Vm.objects.get(name="ha1").pk)).exists()
    assert Event.objects.filter(code="host.confirmed_rebooted").exists()


def test_the_fence_api_reads_and_commands_the_power(lost, api, bmc):
    world, host = lost
    assert api.post(f"/api/v1/hosts/{host.pk}/fence/", {"action": "status"}, format="json").json() == {"status": "on"}
    assert api.post(f"/api/v1/hosts/{host.pk}/fence/", {"action": "explode"}, format="json").status_code == 400
    stop = api.post(f"/api/v1/hosts/{host.pk}/fence/", {"action": "stop"}, format="json")
    assert stop.status_code == 202  # it waits for the BMC to report the power off: a job, not the request
    assert run_job(Job.objects.get(pk=stop.json()["job"]["id"])).status == JobStatus.SUCCEEDED
    assert bmc.power_state() == "off"
    assert Vm.objects.get(name="plain").status == VmStatus.DOWN
    assert api.post(f"/api/v1/hosts/{host.pk}/fence/", {"action": "start"}, format="json").json() == {"status": "on"}
    up = Host.objects.get(pk=world["hosts"][1].pk)
    assert api.post(f"/api/v1/hosts/{up.pk}/confirm-rebooted/").status_code == 409
