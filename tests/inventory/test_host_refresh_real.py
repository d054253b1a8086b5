"""The seed's path on the real host: a refresh job, run by the real worker,
reads the local libvirtd's facts."""

import subprocess

import pytest
from lxml import etree

from core.models import JobStatus
from inventory.choices import HostStatus
from inventory.models import Host
from inventory.services import host_refresh
from tests.inventory.factories import HostFactory
from tests.jobs.test_worker import wait_for_status

pytestmark = [pytest.mark.real, pytest.mark.jobs, pytest.mark.django_db(transaction=True)]


def virsh_capabilities(uri: str) -> etree._Element:
    xml = subprocess.run(["virsh", "-c", uri, "capabilities"], capture_output=True, check=True, timeout=30).stdout
    return etree.fromstring(xml)


def test_it_reads_the_real_hosts_topology_and_numa_cells_through_a_job(libvirtd, worker, admin):
    host = HostFactory(name="localhost", uri=libvirtd)
    job = wait_for_status(host_refresh(host=host, user=admin), JobStatus.ENDED, timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.error

    host = Host.objects.get(pk=host.pk)
    capabilities = virsh_capabilities(libvirtd)
    cells = capabilities.findall("host/topology/cells/cell")
    assert host.status == HostStatus.UP
    assert host.cpu_total == len(capabilities.findall("host/topology/cells/cell/cpus/cpu"))
    assert host.cpu_sockets * host.cpu_cores_per_socket * host.cpu_threads_per_core == host.cpu_total
    assert [node["cpus"] for node in host.numa_nodes] == [
        [int(cpu.get("id")) for cpu in cell.findall("cpus/cpu")] for cell in cells
    ]
    assert [node["memory_mb"] for node in host.numa_nodes] == [
        int(cell.find("memory").text) // 1024 for cell in cells
    ]
    assert host.domain_type in ("kvm", "qemu") and host.kvm == (host.domain_type == "kvm")
    assert host.libvirt_version and host.qemu_version


def test_it_fails_the_refresh_of_an_unreachable_host_and_marks_it_non_responsive(worker, admin):
    host = HostFactory(uri="qemu+tcp://127.0.0.1:1/system", status=HostStatus.UP)
    job = wait_for_status(host_refresh(host=host, user=admin), JobStatus.ENDED, timeout=60)
    assert job.status == JobStatus.FAILED and job.error
    assert [step["status"] for step in job.steps] == ["failed", "pending"]
    assert Host.objects.get(pk=host.pk).status == HostStatus.NON_RESPONSIVE
