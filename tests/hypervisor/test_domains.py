import uuid as uuidlib

import pytest

from hypervisor import (
    Conflict,
    DomainNotFound,
    DomainSpec,
    DomainSummary,
    define_domain,
    destroy_domain,
    domain_state,
    domain_xml,
    list_domains,
    parse_domain_xml,
    start_domain,
    undefine_domain,
)

SPEC = DomainSpec(name="vm-a", memory_mb=256, domain_type="test")


def test_it_defines_a_shut_off_domain_and_returns_its_uuid(small_host):
    uuid = define_domain(small_host, SPEC)

    assert str(uuidlib.UUID(uuid)) == uuid
    assert domain_state(small_host, uuid) == "shutoff"
    assert parse_domain_xml(domain_xml(small_host, uuid)).name == "vm-a"


def test_it_starts_and_powers_off_a_domain(small_host):
    uuid = define_domain(small_host, SPEC)

    start_domain(small_host, uuid)
    assert domain_state(small_host, uuid) == "running"
    destroy_domain(small_host, uuid)
    assert domain_state(small_host, uuid) == "shutoff"


def test_it_refuses_to_start_a_running_domain(small_host):
    uuid = define_domain(small_host, SPEC)
    start_domain(small_host, uuid)

    with pytest.raises(Conflict) as caught:
        start_domain(small_host, uuid)
    assert "already running" in caught.value.message


def test_it_refuses_to_power_off_a_domain_that_is_off(small_host):
    uuid = define_domain(small_host, SPEC)

    with pytest.raises(Conflict) as caught:
        destroy_domain(small_host, uuid)
    assert "not running" in caught.value.message


def test_it_refuses_a_second_domain_with_a_taken_name(small_host):
    first = define_domain(small_host, SPEC)

    with pytest.raises(Conflict) as caught:
        define_domain(small_host, SPEC)
    assert "named 'vm-a' already exists" in caught.value.message
    assert first in caught.value.message


def test_it_redefines_a_domain_with_the_same_uuid(small_host):
    uuid = define_domain(small_host, SPEC)

    again = define_domain(small_host, DomainSpec(name="vm-a", uuid=uuid, memory_mb=512, domain_type="test"))

    assert again == uuid
    assert parse_domain_xml(domain_xml(small_host, uuid)).memory_mb == 512


def test_it_undefines_a_domain(small_host):
    uuid = define_domain(small_host, SPEC)

    undefine_domain(small_host, uuid)

    with pytest.raises(DomainNotFound):
        domain_state(small_host, uuid)


def test_it_lists_domains_with_their_state(small_host):
    running = define_domain(small_host, SPEC)
    start_domain(small_host, running)
    off = define_domain(small_host, DomainSpec(name="vm-b", memory_mb=256, domain_type="test"))

    listed = sorted(list_domains(small_host), key=lambda d: d.name)

    assert listed == [
        DomainSummary(uuid=running, name="vm-a", state="running", persistent=True),
        DomainSummary(uuid=off, name="vm-b", state="shutoff", persistent=True),
    ]


def test_it_says_when_a_domain_does_not_exist(small_host):
    with pytest.raises(DomainNotFound) as caught:
        start_domain(small_host, "3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f")
    assert small_host in caught.value.message
