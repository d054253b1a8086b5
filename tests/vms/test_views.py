"""The VM list, a VM's page and its actions, as the cast sees them.

Fast lane: hosts are libvirt's test driver (simulated), no worker runs, so an
action is proven by the Job row its service creates (the task is only enqueued
when the transaction commits, which these tests never do)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import hypervisor
from core.events import event_record
from core.models import Event, Job, Permission, Role
from hypervisor import domains as hv_domains
from inventory.choices import HostStatus, ImageContent, ImageStatus, NetworkStatus, StorageDomainStatus
from inventory.models import Image, Network
from tests.inventory.factories import ClusterFactory, HostFactory, StorageDomainFactory, simulated_host_uri
from tests.support.processes import REPO
from vms.choices import DiskStatus, VmStatus
from vms.models import OperatingSystem, Vm, VmDisk, VmNic
from vms.services.catalog import instance_types_seed, operating_systems_import
from vms.services.definition import vm_domain_spec
from vms.services.macs import macs_allocate

pytestmark = pytest.mark.django_db

OSINFO = REPO / "tests" / "fixtures" / "osinfo" / "base"
GIB = 1024**3


# ---- the world the tests share ----------------------------------------------

@pytest.fixture
def catalogue():
    """The test OS tree (penguin1..3, windoze10 ... plus linux-generic) and the five instance types."""
    operating_systems_import(roots=[OSINFO])
    instance_types_seed()


@pytest.fixture
def cluster():
    return ClusterFactory(name="prod", memory_overcommit_percent=150)


@pytest.fixture
def host(cluster):
    """An up simulated host: 2 sockets x 4 cores x 2 threads = 16 CPUs, 32 GiB, 2 NUMA cells."""
    host = HostFactory(
        name="node1", cluster=cluster, uri=simulated_host_uri("two-socket-ht.xml"), status=HostStatus.UP,
        cpu_sockets=2, cpu_cores_per_socket=4, cpu_threads_per_core=2, cpu_total=16, memory_mb=32768,
        numa_nodes=[{"index": 0, "cpus": list(range(8)), "memory_mb": 16384},
                    {"index": 1, "cpus": list(range(8, 16)), "memory_mb": 16384}],
        domain_type="test", facts_updated_at=timezone.now(),
    )
    data_center = cluster.data_center
    data_center.spm_host = host
    data_center.save(update_fields=["spm_host"])
    return host


@pytest.fixture
def domain(cluster, tmp_path):
    return StorageDomainFactory(name="data1", data_center=cluster.data_center, path=str(tmp_path / "data1"),
                                status=StorageDomainStatus.ACTIVE, capacity_bytes=100 * GIB,
                                allocated_bytes=10 * GIB, available_bytes=90 * GIB)


@pytest.fixture
def network(cluster):
    return Network.objects.create(name="vmnet", data_center=cluster.data_center, bridge="br-vmnet",
                                  status=NetworkStatus.ACTIVE)


@pytest.fixture(autouse=True)
def fresh_simulated_hosts():
    """The test driver keeps domains per cached connection: start each test without any."""
    hypervisor.close_all()
    yield
    hypervisor.close_all()


def make_vm(cluster, name: str = "web1", *, os_type: str = "linux-generic", status: str = VmStatus.DOWN,
            host=None, owner=None, disks=(), nics=(), **fields) -> Vm:
    """A VM row as vm_create leaves it once its job is done; disks = storage domains, nics = networks."""
    vm = Vm.objects.create(
        name=name, cluster=cluster, data_center=cluster.data_center, os_type=OperatingSystem.objects.get(pk=os_type),
        memory_mb=fields.pop("memory_mb", 2048), memory_guaranteed_mb=fields.pop("memory_guaranteed_mb", 1366),
        status=status, host=host, owner=owner, **fields,
    )
    for index, domain in enumerate(disks):
        VmDisk.objects.create(vm=vm, index=index, size_gb=20, storage_domain=domain, bootable=index == 0,
                              volume_name=f"vm-{vm.uuid}-disk{index}.qcow2", status=DiskStatus.OK,
                              path=f"{domain.path}/vm-{vm.uuid}-disk{index}.qcow2")
    for index, network in enumerate(nics):
        VmNic.objects.create(vm=vm, index=index, network=network, data_center=cluster.data_center,
                             mac=macs_allocate(data_center=cluster.data_center, count=1)[0])
    return vm


def grant(user, actions: list[str], obj) -> None:
    role, _ = Role.objects.get_or_create(name="+".join(actions), defaults={"actions": actions})
    Permission.objects.create(role=role, user=user, object_type=ContentType.objects.get_for_model(obj),
                              object_id=str(obj.pk))


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def jobs_of(vm) -> list[str]:
    return list(Job.objects.filter(target_id=str(vm.pk), target_type__model="vm").values_list("kind", flat=True))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# ---- the list ---------------------------------------------------------------

@pytest.mark.parametrize("url", ["/vms/", "/vms/new/", "/vms/1/"])
def test_it_sends_an_anonymous_visitor_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_lists_vms_with_a_live_status_label_and_its_reason(logged_in, catalogue, cluster, host):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host)
    make_vm(cluster, "lost", status=VmStatus.UNKNOWN, status_reason="Its domain was removed outside the portal.")
    page = page_of(logged_in.get(reverse("vms:vm-list")))
    assert f'data-live-object="vm:{vm.pk}"' in page
    assert 'data-status="up"' in page and ">Up<" in page
    assert "Its domain was removed outside the portal." in page
    assert reverse("vms:vm-detail", args=[vm.pk]) in page and reverse("vms:vm-create") in page


def test_the_navigation_links_to_the_vm_list(logged_in):
    page = page_of(logged_in.get(reverse("vms:vm-list")))
    assert f'href="{reverse("vms:vm-list")}"' in page and 'aria-current="page"' in page


def test_it_filters_by_cluster_host_status_owner_and_os(logged_in, catalogue, cluster, host, alice, bob):
    other_cluster = ClusterFactory(name="lab", data_center=cluster.data_center)
    make_vm(cluster, "alpha", status=VmStatus.UP, host=host, owner=alice)
    make_vm(cluster, "bravo", owner=bob, os_type="windoze10")
    make_vm(other_cluster, "charlie-box", status=VmStatus.PAUSED, host=host, owner=alice, os_type="penguin1")
    url = reverse("vms:vm-list")

    def names(query: str) -> set[str]:
        page = page_of(logged_in.get(url + query))
        return {name for name in ("alpha", "bravo", "charlie-box") if f">{name}</a>" in page}

    assert names("") == {"alpha", "bravo", "charlie-box"}
    assert names(f"?cluster={other_cluster.pk}") == {"charlie-box"}
    assert names(f"?host={host.pk}") == {"alpha", "charlie-box"}
    assert names("?status=paused") == {"charlie-box"}
    assert names(f"?owner={bob.pk}") == {"bravo"}
    assert names("?os_type=windoze10") == {"bravo"}
    assert names(f"?owner={alice.pk}&status=up") == {"alpha"}
    assert names("?status=nonsense&host=x") == {"alpha", "bravo", "charlie-box"}, "bad filters are ignored"
    page = page_of(logged_in.get(url))
    for option in (f'<option value="{other_cluster.pk}">lab</option>', f'<option value="{alice.pk}">alice</option>',
                   '<option value="windoze10">', '<option value="paused">Paused</option>'):
        assert option in page


def test_it_searches_and_sorts_the_list(logged_in, catalogue, cluster, host):
    make_vm(cluster, "db-main", memory_mb=8192, description="the database")
    make_vm(cluster, "web-a", memory_mb=1024, host=host, status=VmStatus.UP)
    make_vm(cluster, "web-b", memory_mb=4096)
    url = reverse("vms:vm-list")
    page = page_of(logged_in.get(url + "?q=web"))
    assert ">web-a<" in page and ">web-b<" in page and ">db-main<" not in page
    assert ">db-main<" in page_of(logged_in.get(url + "?q=DB-"))
    page = page_of(logged_in.get(url + "?ordering=-memory_mb"))
    assert page.index(">db-main<") < page.index(">web-b<") < page.index(">web-a<")
    assert 'aria-sort="descending"' in page
    assert page_of(logged_in.get(url + "?ordering=-vcpus&q=web")).count("<tr class") == 3
    assert logged_in.get(url + "?ordering=password").status_code == 200


def test_it_pages_a_long_list_keeping_the_filters(logged_in, catalogue, cluster):
    Vm.objects.bulk_create([
        Vm(name=f"vm-{n:03}", cluster=cluster, data_center=cluster.data_center, os_type_id="linux-generic",
           memory_mb=1024, status=VmStatus.DOWN) for n in range(120)
    ])
    url = reverse("vms:vm-list")
    first = page_of(logged_in.get(url + "?status=down"))
    assert ">vm-000<" in first and ">vm-049<" in first and ">vm-050<" not in first
    assert "<b>1 - 50</b>" in first and "<b>120</b>" in first
    assert "?status=down&amp;page=2" in first
    third = page_of(logged_in.get(url + "?status=down&page=3"))
    assert ">vm-100<" in third and ">vm-119<" in third and ">vm-099<" not in third
    assert page_of(logged_in.get(url + "?page=999")).count(">vm-1") == 20, "past the end: the last page"


def test_the_list_costs_the_same_queries_for_3_vms_as_for_300(logged_in, catalogue, cluster, host, alice,
                                                              django_assert_num_queries):
    def add(count: int, start: int) -> None:
        Vm.objects.bulk_create([
            Vm(name=f"vm-{start + n:04}", cluster=cluster, data_center=cluster.data_center, host=host, owner=alice,
               os_type_id=("linux-generic", "penguin1", "windoze10")[n % 3], memory_mb=1024,
               status=(VmStatus.UP, VmStatus.DOWN)[n % 2], status_reason="why" * (n % 2)) for n in range(count)
        ])

    url = reverse("vms:vm-list") + "?ordering=-memory_mb&q=vm-"
    add(3, 0)
    logged_in.get(url)  # warm the content type cache, as a running portal has it
    with CaptureQueriesContext(connection) as small:
        logged_in.get(url)
    add(297, 3)
    with django_assert_num_queries(len(small.captured_queries)):
        page = page_of(logged_in.get(url))
    assert page.count('data-live-object="vm:') == 50
    with django_assert_num_queries(len(small.captured_queries)):
        logged_in.get(url + f"&host={host.pk}&page=4")


def test_charlie_sees_no_vm_and_alice_sees_her_own(client, catalogue, cluster, host, alice, charlie):
    mine = make_vm(cluster, "alices-vm", owner=alice)
    make_vm(cluster, "someone-elses")
    client.force_login(charlie)
    page = page_of(client.get(reverse("vms:vm-list")))
    assert "alices-vm" not in page and "someone-elses" not in page and "No VMs yet" in page
    assert reverse("vms:vm-create") not in page, "charlie may create nothing: no New VM button"
    assert client.get(reverse("vms:vm-detail", args=[mine.pk])).status_code == 404

    client.force_login(alice)
    page = page_of(client.get(reverse("vms:vm-list")))
    assert "alices-vm" in page and "someone-elses" not in page
    assert page_of(client.get(reverse("vms:vm-detail", args=[mine.pk])))


# ---- a VM's page ------------------------------------------------------------

def test_the_vm_page_shows_the_overview_disks_nics_events_and_placement(logged_in, catalogue, cluster, host,
                                                                        domain, network, alice):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host, owner=alice, disks=[domain], nics=[network],
                 cpu_sockets=2, cpu_cores=2, cpu_threads=1, memory_mb=4096, memory_guaranteed_mb=2731,
                 status_reason="", placement={
                     "host": host.pk, "summary": "Placed on node1: fits; hosts are taken in name order (none)",
                     "reasons": [
                         {"host": host.pk, "host_name": "node1", "passed": True, "filter": None,
                          "reason": "fits; hosts are taken in name order", "score": 0.0},
                         {"host": 999, "host_name": "node2", "passed": False, "filter": "memory",
                          "reason": "needs 4096 MiB, 1024 MiB free of 8192 MiB allowed", "score": None},
                     ]})
    event_record(code="vm.up", message="VM web1 is up.", target=vm)
    page = page_of(logged_in.get(reverse("vms:vm-detail", args=[vm.pk])))
    for text in ("node1", "prod", "alice", "Generic Linux", "Server", "Custom", "4.0 GiB", "2.7 GiB guaranteed",
                 "2 sockets × 2 cores × 1 thread = <strong>4 vCPUs</strong>", "VNC", "Portal",
                 "data1", "20 GiB", "Thin provisioned", "vmnet", vm.nics.get().mac, "VM web1 is up.",
                 "Placed on node1", "Refused by memory", "needs 4096 MiB, 1024 MiB free", "Chosen"):
        assert text in page, text
    assert page.count('class="vm-topology__core"') == 4
    assert f'data-live-object="vm:{vm.pk}"' in page
    for action in ("shutdown", "reboot", "suspend", "poweroff"):
        assert reverse("vms:vm-action", args=[vm.pk, action]) in page
    for absent in ("start", "resume"):
        assert reverse("vms:vm-action", args=[vm.pk, absent]) not in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert reverse("vms:vm-screenshot", args=[vm.pk]) in page and 'hx-trigger="every 5s"' in page


def test_a_down_vm_offers_start_run_once_and_delete_and_no_screen(logged_in, catalogue, cluster, host):
    vm = make_vm(cluster, "idle")
    page = page_of(logged_in.get(reverse("vms:vm-detail", args=[vm.pk])))
    assert reverse("vms:vm-action", args=[vm.pk, "start"]) in page
    assert reverse("vms:vm-run-once", args=[vm.pk]) in page and reverse("vms:vm-delete", args=[vm.pk]) in page
    assert reverse("vms:vm-action", args=[vm.pk, "shutdown"]) not in page
    assert "No screen while the VM is down" in page and reverse("vms:vm-screenshot", args=[vm.pk]) not in page


def test_the_vm_page_shows_the_running_job_of_the_vm(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "web1", disks=[domain])
    response = logged_in.post(reverse("vms:vm-action", args=[vm.pk, "start"]), follow=True)
    job = Job.objects.get(kind="vm.start")
    page = page_of(response)
    assert f'data-job-id="{job.pk}"' in page and "Start VM web1" in page
    assert f"job #{job.pk} started" in page
    assert 'hx-trigger="every 3s"' in page, "the page follows the job until it ends"


# ---- actions ----------------------------------------------------------------

@pytest.mark.parametrize(("action", "status", "kind"), [
    ("start", VmStatus.DOWN, "vm.start"),
    ("shutdown", VmStatus.UP, "vm.shutdown"),
    ("poweroff", VmStatus.UP, "vm.poweroff"),
    ("reboot", VmStatus.UP, "vm.reboot"),
    ("suspend", VmStatus.UP, "vm.suspend"),
    ("resume", VmStatus.PAUSED, "vm.resume"),
])
def test_each_action_starts_its_job_and_comes_back_to_the_vm(logged_in, catalogue, cluster, host, domain,
                                                             action, status, kind):
    vm = make_vm(cluster, "web1", status=status, host=host if status != VmStatus.DOWN else None, disks=[domain])
    url = reverse("vms:vm-action", args=[vm.pk, action])
    assert logged_in.get(url).status_code == 405, "no GET changes state"
    response = logged_in.post(url)
    assert response.status_code == 302 and response.url == reverse("vms:vm-detail", args=[vm.pk])
    assert jobs_of(vm) == [kind]


def test_delete_asks_first_then_shows_the_job(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "old", disks=[domain])
    confirm = page_of(logged_in.get(reverse("vms:vm-delete", args=[vm.pk])))
    assert "This cannot be undone" in confirm and vm.disks.get().volume_name in confirm
    assert not Job.objects.exists(), "the confirmation page changes nothing"
    response = logged_in.post(reverse("vms:vm-action", args=[vm.pk, "delete"]))
    job = Job.objects.get(kind="vm.delete")
    assert response.url == reverse("core:job-detail", args=[job.pk])
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.IMAGE_LOCKED


def test_a_refused_action_is_a_message_on_the_vm_page_not_an_error(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host, disks=[domain])
    response = logged_in.post(reverse("vms:vm-action", args=[vm.pk, "start"]), follow=True)
    assert response.status_code == 200
    assert any("is up; it can start only when down" in m for m in messages_of(response))
    assert "is up; it can start only when down" in response.content.decode()
    assert not Job.objects.exists()
    response = logged_in.post(reverse("vms:vm-action", args=[vm.pk, "delete"]), follow=True)
    assert any("it can be deleted only when down or unknown" in m for m in messages_of(response))


def test_a_start_no_host_can_take_says_why_and_leaves_the_vm_down(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "huge", disks=[domain], memory_mb=65536, memory_guaranteed_mb=0)
    response = logged_in.post(reverse("vms:vm-action", args=[vm.pk, "start"]), follow=True)
    text = " ".join(messages_of(response))
    assert "No host can run VM huge" in text and "node1" in text
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN and not Job.objects.exists()


def test_an_unknown_action_is_not_found(logged_in, catalogue, cluster):
    vm = make_vm(cluster)
    assert logged_in.post(reverse("vms:vm-action", args=[vm.pk, "explode"])).status_code == 404


# ---- Run Once ---------------------------------------------------------------

@pytest.fixture
def iso(domain):
    return Image.objects.create(name="installer.iso", storage_domain=domain, content=ImageContent.ISO,
                                format="iso", status=ImageStatus.OK, path=f"{domain.path}/images/installer.iso",
                                virtual_size_bytes=GIB)


def test_run_once_offers_the_isos_of_the_data_center_and_the_cluster_hosts(logged_in, catalogue, cluster, host,
                                                                           domain, iso):
    elsewhere = StorageDomainFactory(name="far")
    Image.objects.create(name="other-dc.iso", storage_domain=elsewhere, content=ImageContent.ISO,
                         status=ImageStatus.OK)
    vm = make_vm(cluster, "web1", disks=[domain])
    page = page_of(logged_in.get(reverse("vms:vm-run-once", args=[vm.pk])))
    assert "installer.iso" in page and "other-dc.iso" not in page
    assert f'<option value="{host.pk}">node1</option>' in page
    for device in ("hd", "cdrom", "network"):
        assert f'value="{device}"' in page


def test_run_once_from_cd_without_an_iso_is_refused_under_the_iso_field(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "web1", disks=[domain])
    page = page_of(logged_in.post(reverse("vms:vm-run-once", args=[vm.pk]), {"boot_device": "cdrom"}))
    assert 'data-field-error="iso"' in page and "Booting from CD needs an ISO" in page
    assert not Job.objects.exists() and Vm.objects.get(pk=vm.pk).status == VmStatus.DOWN


def test_run_once_refuses_a_relative_kernel_path_under_its_field(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "web1", disks=[domain])
    page = page_of(logged_in.post(reverse("vms:vm-run-once", args=[vm.pk]),
                                  {"boot_device": "hd", "kernel": "vmlinuz"}))
    assert 'data-field-error="kernel"' in page and "absolute path" in page
    assert not Job.objects.exists()


def test_run_once_starts_a_job_with_the_one_off_options(logged_in, catalogue, cluster, host, domain, iso):
    vm = make_vm(cluster, "web1", disks=[domain])
    response = logged_in.post(reverse("vms:vm-run-once", args=[vm.pk]), {
        "boot_device": "cdrom", "iso": iso.pk, "boot_menu": "on", "stateless": "on", "start_paused": "on",
        "host": host.pk, "console": "spice", "cmdline": "",
    })
    assert response.status_code == 302 and response.url == reverse("vms:vm-detail", args=[vm.pk])
    job = Job.objects.get(kind="vm.start")
    assert job.title == "Run VM web1 once"
    assert Vm.objects.get(pk=vm.pk).status == VmStatus.POWERING_UP


def test_run_once_of_a_running_vm_says_why_not(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host, disks=[domain])
    page = page_of(logged_in.post(reverse("vms:vm-run-once", args=[vm.pk]), {"boot_device": "hd"}))
    assert "is up; it can start only when down" in page and not Job.objects.exists()


# ---- who may act ------------------------------------------------------------

def test_charlie_can_neither_see_nor_act(client, catalogue, cluster, host, domain, charlie):
    vm = make_vm(cluster, "web1", disks=[domain])
    client.force_login(charlie)
    for url in (reverse("vms:vm-action", args=[vm.pk, "start"]), reverse("vms:vm-run-once", args=[vm.pk])):
        assert client.post(url, {"boot_device": "hd"}).status_code == 404
    assert client.get(reverse("vms:vm-screenshot", args=[vm.pk])).status_code == 404
    assert not Job.objects.exists()


def test_alice_starts_her_own_vm(client, catalogue, cluster, host, domain, alice):
    vm = make_vm(cluster, "mine", owner=alice, disks=[domain])
    client.force_login(alice)
    client.post(reverse("vms:vm-action", args=[vm.pk, "start"]))
    assert jobs_of(vm) == ["vm.start"]


def test_bob_who_may_only_look_gets_no_buttons_and_a_refusal(client, catalogue, cluster, host, domain, bob):
    vm = make_vm(cluster, "shared", disks=[domain])
    grant(bob, ["view"], vm)
    client.force_login(bob)
    page = page_of(client.get(reverse("vms:vm-detail", args=[vm.pk])))
    assert "shared" in page and reverse("vms:vm-action", args=[vm.pk, "start"]) not in page
    assert reverse("vms:vm-delete", args=[vm.pk]) not in page
    response = client.post(reverse("vms:vm-action", args=[vm.pk, "start"]), follow=True)
    assert any("You may not start VM shared" in m for m in messages_of(response))
    assert not Job.objects.exists()


def test_bob_granted_operate_may_start_but_not_delete(client, catalogue, cluster, host, domain, bob):
    vm = make_vm(cluster, "shared", disks=[domain])
    grant(bob, ["view", "operate"], vm)
    client.force_login(bob)
    client.post(reverse("vms:vm-action", args=[vm.pk, "delete"]))
    assert not Job.objects.exists()
    client.post(reverse("vms:vm-action", args=[vm.pk, "start"]))
    assert jobs_of(vm) == ["vm.start"]


# ---- the screen -------------------------------------------------------------

def running_on_simulated_host(vm, host) -> None:
    """Define and start the VM's domain on the test driver, as its start job would."""
    hv_domains.define_domain(host.uri, vm_domain_spec(vm, host))
    hv_domains.start_domain(host.uri, str(vm.uuid))


def test_the_screenshot_of_a_running_vm_is_a_small_png(logged_in, catalogue, cluster, host, domain):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host, disks=[domain])
    running_on_simulated_host(vm, host)
    response = logged_in.get(reverse("vms:vm-screenshot", args=[vm.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert response["Cache-Control"] == "no-store"


def test_the_screenshot_of_a_stopped_vm_is_a_placeholder_saying_so(logged_in, catalogue, cluster, host):
    vm = make_vm(cluster, "idle")
    response = logged_in.get(reverse("vms:vm-screenshot", args=[vm.pk]))
    assert response.status_code == 409 and response["Content-Type"] == "image/svg+xml"
    assert b"not running" in response.content


def test_the_screenshot_of_an_unreachable_host_is_a_placeholder_not_an_error(logged_in, catalogue, cluster):
    lost = HostFactory(cluster=cluster, uri="qemu+tcp://127.0.0.1:1/system", status=HostStatus.UP)
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=lost)
    response = logged_in.get(reverse("vms:vm-screenshot", args=[vm.pk]))
    assert response.status_code == 503 and response["Content-Type"] == "image/svg+xml"


def test_the_screen_block_polls_while_running_and_stops_when_down(logged_in, catalogue, cluster, host):
    vm = make_vm(cluster, "web1", status=VmStatus.UP, host=host)
    response = logged_in.get(reverse("vms:vm-screen", args=[vm.pk]))
    assert response.status_code == 200 and b'hx-trigger="every 5s"' in response.content
    Vm.objects.filter(pk=vm.pk).update(status=VmStatus.DOWN)
    response = logged_in.get(reverse("vms:vm-screen", args=[vm.pk]))
    assert response.status_code == 286, "htmx stops polling"
    assert b"No screen while the VM is down" in response.content and b"hx-trigger" not in response.content


def test_the_events_of_the_vm_page_are_the_vms_only(logged_in, catalogue, cluster, host):
    vm = make_vm(cluster, "web1")
    other = make_vm(cluster, "web2")
    event_record(code="vm.up", message="VM web1 did a thing.", target=vm)
    event_record(code="vm.up", message="VM web2 did another.", target=other)
    page = page_of(logged_in.get(reverse("vms:vm-detail", args=[vm.pk])))
    assert "VM web1 did a thing." in page and "VM web2 did another." not in page
    assert Event.objects.count() == 2
