"""Domains on libvirt's test driver (fast lane); the real QEMU side is in
test_domains_real.py.

The test driver differs from QEMU in ways these tests pin down: it cannot start
a domain paused, it shuts a domain down at once (there is no guest to ask), and
it hands back a canned PNG as the screenshot of any domain, even one that is off.
"""

import io
import uuid as uuidlib
from dataclasses import replace

import pytest
from PIL import Image

from hypervisor import (
    Conflict,
    DomainNotFound,
    DomainSpec,
    DomainSummary,
    domain_summary,
    HypervisorError,
    InvalidSpec,
    InvalidXML,
    NotSupported,
    build_domain_xml,
    define_domain,
    destroy_domain,
    domain_state,
    domain_xml,
    list_domains,
    parse_domain_xml,
    start_domain,
    undefine_domain,
)
from hypervisor.domains import (
    domain_state_reason,
    domain_xml_inactive,
    reboot_domain,
    resume_domain,
    run_domain_once,
    shutdown_domain,
    suspend_domain,
)
from hypervisor.screenshot import _to_png, domain_screenshot_png

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


def test_it_lists_domains_with_their_state_memory_and_vcpus(small_host):
    running = define_domain(small_host, SPEC)
    start_domain(small_host, running)
    off = define_domain(small_host, DomainSpec(name="vm-b", memory_mb=256, domain_type="test"))

    listed = sorted(list_domains(small_host), key=lambda d: d.name)

    assert listed == [
        DomainSummary(uuid=running, name="vm-a", state="running", persistent=True, memory_mb=256, vcpus=1),
        DomainSummary(uuid=off, name="vm-b", state="shutoff", persistent=True, memory_mb=256, vcpus=1),
    ]
    assert domain_summary(small_host, off) == listed[1]


def test_it_says_when_a_domain_does_not_exist(small_host):
    with pytest.raises(DomainNotFound) as caught:
        start_domain(small_host, "3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f")
    assert small_host in caught.value.message


def test_it_names_the_state_when_starting_a_paused_domain(small_host):
    uuid = define_domain(small_host, SPEC)
    start_domain(small_host, uuid)
    suspend_domain(small_host, uuid)

    with pytest.raises(Conflict) as caught:
        start_domain(small_host, uuid)
    assert "already running" in caught.value.message and "(it is paused)" in caught.value.message


def test_the_test_driver_cannot_start_a_domain_paused(small_host):
    uuid = define_domain(small_host, SPEC)

    with pytest.raises(NotSupported) as caught:
        start_domain(small_host, uuid, paused=True)
    assert "cannot start a domain paused" in caught.value.message
    assert domain_state(small_host, uuid) == "shutoff"


class TestSuspendAndResume:
    def test_it_pauses_and_resumes_a_running_domain(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)

        suspend_domain(small_host, uuid)
        assert domain_state_reason(small_host, uuid) == ("paused", "user")
        resume_domain(small_host, uuid)
        assert domain_state(small_host, uuid) == "running"

    @pytest.mark.parametrize("call, words", [
        (suspend_domain, "Cannot pause the virtual machine 'vm-a'"),
        (resume_domain, "Cannot resume the virtual machine 'vm-a'"),
        (shutdown_domain, "Cannot shut down the virtual machine 'vm-a'"),
        (reboot_domain, "Cannot reboot the virtual machine 'vm-a'"),
    ])
    def test_it_refuses_lifecycle_calls_on_a_shut_off_domain(self, small_host, call, words):
        uuid = define_domain(small_host, SPEC)

        with pytest.raises(Conflict) as caught:
            call(small_host, uuid)
        assert words in caught.value.message and caught.value.message.endswith("it is shut off.")

    def test_it_refuses_to_pause_a_paused_domain(self, small_host):
        # QEMU would accept this silently; the test driver calls it an internal error.
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)
        suspend_domain(small_host, uuid)

        with pytest.raises(Conflict) as caught:
            suspend_domain(small_host, uuid)
        assert "it is paused" in caught.value.message

    def test_it_refuses_to_resume_a_running_domain(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)

        with pytest.raises(Conflict) as caught:
            resume_domain(small_host, uuid)
        assert "it is running" in caught.value.message


class TestShutdownAndReboot:
    def test_the_test_driver_shuts_a_domain_down_at_once(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)

        shutdown_domain(small_host, uuid)

        assert domain_state_reason(small_host, uuid) == ("shutoff", "shutdown")

    def test_it_reboots_a_running_domain(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)

        reboot_domain(small_host, uuid)

        assert domain_state(small_host, uuid) == "running"

    @pytest.mark.parametrize("call, action", [(shutdown_domain, "shut down"), (reboot_domain, "reboot")])
    def test_it_refuses_to_ask_a_paused_guest(self, small_host, call, action):
        # A paused guest cannot see the ACPI request: QEMU refuses a shutdown and
        # keeps a reboot pending, the test driver acts at once. Both are refused.
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)
        suspend_domain(small_host, uuid)

        with pytest.raises(Conflict) as caught:
            call(small_host, uuid)
        assert caught.value.message == (
            f"Cannot {action} the virtual machine 'vm-a' on {small_host}: it is paused; resume it first."
        )
        assert domain_state(small_host, uuid) == "paused"


class TestStateReason:
    def test_it_tells_a_pulled_plug_from_a_boot(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)
        assert domain_state_reason(small_host, uuid) == ("running", "booted")

        destroy_domain(small_host, uuid)
        assert domain_state_reason(small_host, uuid) == ("shutoff", "destroyed")

    def test_it_says_when_the_domain_is_gone(self, small_host):
        with pytest.raises(DomainNotFound):
            domain_state_reason(small_host, "3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f")


class TestRunOnce:
    def test_it_runs_another_definition_and_keeps_the_persistent_one(self, small_host):
        uuid = define_domain(small_host, SPEC)
        before = domain_xml_inactive(small_host, uuid)

        run_domain_once(small_host, replace(SPEC, uuid=uuid, memory_mb=512))

        assert domain_state(small_host, uuid) == "running"
        assert parse_domain_xml(domain_xml(small_host, uuid)).memory_mb == 512
        assert domain_xml_inactive(small_host, uuid) == before
        destroy_domain(small_host, uuid)
        assert domain_xml_inactive(small_host, uuid) == before
        assert parse_domain_xml(domain_xml(small_host, uuid)).memory_mb == 256
        assert [d.persistent for d in list_domains(small_host)] == [True]

    def test_it_takes_xml_as_well(self, small_host):
        uuid = define_domain(small_host, SPEC)

        run_domain_once(small_host, build_domain_xml(replace(SPEC, uuid=uuid, memory_mb=384)))

        assert parse_domain_xml(domain_xml(small_host, uuid)).memory_mb == 384

    def test_it_refuses_a_running_domain(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)

        with pytest.raises(Conflict) as caught:
            run_domain_once(small_host, replace(SPEC, uuid=uuid))
        assert "already running" in caught.value.message

    def test_it_needs_the_uuid_of_a_defined_domain(self, small_host):
        define_domain(small_host, SPEC)

        with pytest.raises(InvalidSpec) as caught:
            run_domain_once(small_host, SPEC)
        assert "needs the UUID" in caught.value.message
        with pytest.raises(DomainNotFound):
            run_domain_once(small_host, replace(SPEC, uuid="3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f"))
        assert [d.state for d in list_domains(small_host)] == ["shutoff"]  # no transient domain made

    def test_it_refuses_another_name(self, small_host):
        uuid = define_domain(small_host, SPEC)

        with pytest.raises(InvalidSpec) as caught:
            run_domain_once(small_host, replace(SPEC, uuid=uuid, name="vm-z"))
        assert "named 'vm-z'" in caught.value.message and "'vm-a'" in caught.value.message

    @pytest.mark.parametrize("xml, words", [
        ("<domain><name>x</name>", "not well-formed"),
        ("<network><name>x</name></network>", "Expected a <domain>"),
        ("<domain><uuid>3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f</uuid></domain>", "no <name>"),
        ("<domain><name>x</name><uuid>not-a-uuid</uuid></domain>", "is not a UUID"),
    ])
    def test_it_refuses_xml_it_cannot_identify(self, small_host, xml, words):
        with pytest.raises(InvalidXML) as caught:
            run_domain_once(small_host, xml)
        assert words in caught.value.message

    def test_the_test_driver_cannot_run_once_paused(self, small_host):
        uuid = define_domain(small_host, SPEC)

        with pytest.raises(NotSupported):
            run_domain_once(small_host, replace(SPEC, uuid=uuid), paused=True)


class TestScreenshot:
    def test_it_returns_a_png_of_a_running_domain(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)

        png = domain_screenshot_png(small_host, uuid)

        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.width > 200

    def test_it_scales_a_thumbnail_down_keeping_the_aspect(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)
        full = Image.open(io.BytesIO(domain_screenshot_png(small_host, uuid)))

        thumb = Image.open(io.BytesIO(domain_screenshot_png(small_host, uuid, max_width=100)))

        assert thumb.format == "PNG" and thumb.width == 100
        assert abs(thumb.height - full.height * 100 / full.width) <= 1

    def test_it_never_scales_up(self, small_host):
        uuid = define_domain(small_host, SPEC)
        start_domain(small_host, uuid)

        assert domain_screenshot_png(small_host, uuid, max_width=100_000) == domain_screenshot_png(small_host, uuid)

    def test_it_refuses_a_domain_that_is_off(self, small_host):
        # The test driver would hand back its canned picture; QEMU refuses.
        uuid = define_domain(small_host, SPEC)

        with pytest.raises(Conflict) as caught:
            domain_screenshot_png(small_host, uuid)
        assert "it is shut off" in caught.value.message

    @pytest.mark.parametrize("width", [0, -5, 1.5, True, "100"])
    def test_it_refuses_a_bad_width(self, small_host, width):
        with pytest.raises(InvalidSpec):
            domain_screenshot_png(small_host, "3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f", max_width=width)

    def test_it_converts_the_ppm_older_qemu_sends(self):
        ppm = io.BytesIO()
        Image.new("RGB", (640, 480), (200, 10, 10)).save(ppm, format="PPM")

        png = Image.open(io.BytesIO(_to_png("test:///default", ppm.getvalue(), 320)))

        assert (png.format, png.size, png.getpixel((10, 10))) == ("PNG", (320, 240), (200, 10, 10))

    def test_it_says_when_the_screenshot_is_not_an_image(self):
        with pytest.raises(HypervisorError) as caught:
            _to_png("test:///default", b"not an image", None)
        assert "not an image we can read" in caught.value.message


def test_it_reads_the_persistent_definition(small_host):
    uuid = define_domain(small_host, SPEC)

    assert parse_domain_xml(domain_xml_inactive(small_host, uuid)) == replace(SPEC, uuid=uuid)
    with pytest.raises(DomainNotFound):
        domain_xml_inactive(small_host, "3f0e4a54-8a0e-4c1b-9f5e-0a1b2c3d4e5f")
