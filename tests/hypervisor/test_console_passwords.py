"""Locked graphics devices and one-time passwords, what needs no QEMU: the
XML of a locked device, its round trip, and the inputs refused before libvirt
is asked. The password opening a real VNC server is tested in
tests/consoles/test_native_real.py."""

from __future__ import annotations

import pytest
from lxml import etree

from hypervisor import DomainSpec, GraphicsSpec, InvalidSpec, build_domain_xml, parse_domain_xml
from hypervisor.consoles import set_graphics_password
from hypervisor.specs import GRAPHICS_LOCKED_VALID_TO, random_graphics_password


def test_a_locked_device_gets_a_random_password_that_expired_long_ago():
    spec = DomainSpec(name="locked", memory_mb=256, graphics=(GraphicsSpec(type="vnc", locked=True),
                                                              GraphicsSpec(type="spice", locked=True)))
    first, second = (etree.fromstring(build_domain_xml(spec).encode()) for _ in range(2))
    vnc, spice = first.findall("devices/graphics")
    assert vnc.get("passwdValidTo") == spice.get("passwdValidTo") == GRAPHICS_LOCKED_VALID_TO
    assert len(vnc.get("passwd")) == 8 and len(spice.get("passwd")) == 24
    assert vnc.get("passwd") != second.find("devices/graphics").get("passwd")  # never the same twice
    assert parse_domain_xml(build_domain_xml(spec)).graphics == spec.graphics


def test_a_locked_device_takes_no_password_of_its_own():
    with pytest.raises(InvalidSpec, match="takes no password"):
        GraphicsSpec(type="vnc", locked=True, password="secret")


def test_random_passwords_are_letters_and_digits():
    passwords = {random_graphics_password("vnc") for _ in range(50)}
    assert len(passwords) == 50 and all(p.isalnum() and len(p) == 8 for p in passwords)


@pytest.mark.parametrize("kind, password, seconds, message", [
    ("vnc", "abc", 0, "positive number of seconds"),
    ("vnc", "abc", True, "positive number of seconds"),
    ("vnc", "123456789", 60, "1 to 8 letters and digits"),
    ("vnc", "a'b", 60, "letters and digits"),
    ("spice", "", 60, "1 to 24"),
])
def test_it_refuses_a_bad_password_or_lifetime_before_asking_libvirt(kind, password, seconds, message):
    with pytest.raises(InvalidSpec, match=message):
        set_graphics_password("test:///default", "00000000-0000-0000-0000-000000000000", kind, password,
                              valid_for_seconds=seconds)
