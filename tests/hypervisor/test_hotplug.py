"""hypervisor.hotplug on libvirt's test driver: vCPUs plug live, memory
hot-plug is refused in libvirt's words (the test driver has none; the real
lane plugs DIMMs), and a domain that is off changes nothing live."""

from __future__ import annotations

import pytest
from lxml import etree

import hypervisor
from hypervisor import Conflict, CpuTopology, DomainSpec, InvalidSpec, NotSupported
from hypervisor.specs import GuestNumaCell
from hypervisor.hotplug import dimm_xml

TEST_DRIVER = "test:///default"


@pytest.fixture
def domain():
    spec = DomainSpec(name="hotplug-test", memory_mb=512, topology=CpuTopology(sockets=1), domain_type="test",
                      max_memory_mb=2048, memory_slots=16, max_vcpus=4,
                      numa_cells=(GuestNumaCell(0, (0, 1, 2, 3), 512),))
    uuid = hypervisor.define_domain(TEST_DRIVER, spec)
    yield uuid
    if hypervisor.domain_state(TEST_DRIVER, uuid) != "shutoff":
        hypervisor.destroy_domain(TEST_DRIVER, uuid)
    hypervisor.undefine_domain(TEST_DRIVER, uuid)


def test_a_dimm_is_a_memory_module_for_a_guest_numa_cell():
    element = etree.fromstring(dimm_xml(256, node=0))
    assert (element.get("model"), element.findtext("target/size"), element.find("target/size").get("unit"),
            element.findtext("target/node")) == ("dimm", "256", "MiB", "0")


def test_vcpus_plug_live_up_to_the_maximum(domain):
    hypervisor.start_domain(TEST_DRIVER, domain)
    hypervisor.set_vcpus(TEST_DRIVER, domain, 3)
    spec = hypervisor.parse_domain_xml(hypervisor.domain_xml(TEST_DRIVER, domain))
    assert (spec.vcpus, spec.max_vcpus) == (3, 4)
    with pytest.raises(hypervisor.HypervisorError):
        hypervisor.set_vcpus(TEST_DRIVER, domain, 5)


def test_memory_hot_plug_refused_by_the_driver_says_so(domain):
    hypervisor.start_domain(TEST_DRIVER, domain)
    with pytest.raises(NotSupported, match="not supported"):
        hypervisor.plug_memory(TEST_DRIVER, domain, 256)


def test_a_domain_that_is_off_changes_nothing_live(domain):
    with pytest.raises(Conflict, match="only a running domain"):
        hypervisor.set_vcpus(TEST_DRIVER, domain, 2)
    with pytest.raises(InvalidSpec):
        hypervisor.plug_memory(TEST_DRIVER, domain, 0)


def test_a_maximum_memory_needs_a_guest_numa_cell_and_room():
    with pytest.raises(InvalidSpec, match="NUMA cell"):
        DomainSpec(name="x", memory_mb=512, max_memory_mb=1024, memory_slots=4)
    with pytest.raises(InvalidSpec, match="less than the memory"):
        DomainSpec(name="x", memory_mb=512, max_memory_mb=256, memory_slots=4,
                   numa_cells=(GuestNumaCell(0, (0,), 512),))
    with pytest.raises(InvalidSpec, match="whole sockets"):
        DomainSpec(name="x", memory_mb=512, topology=CpuTopology(sockets=1, cores=2), max_vcpus=3)
