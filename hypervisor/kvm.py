"""Can this host run guests with KVM, or must it use QEMU's emulator (TCG)?

``/dev/kvm`` existing proves little: on the machines we run on, a paravirtual KVM
module (kvm_pvm, no VT-x in the CPU) is loaded, QEMU starts with it and
even the firmware runs, but a Linux guest then needs over a minute to decompress
its kernel. So KVM counts as usable only when all of these hold:

1. libvirt's domain capabilities offer the ``kvm`` domain type for the arch;
2. on x86, the host CPU advertises hardware virtualization (``vmx``/``svm`` in
   the capabilities' host CPU features): without it "KVM" is not hardware-assisted;
3. a boot check passes: a transient 16 MiB guest with no disk runs its firmware,
   fails to find a boot device and reboots at once (``rebootTimeout=0``), which
   ``on_reboot=destroy`` turns into the domain vanishing. That takes 1-4 s
   and proves QEMU starts with KVM and the vCPU executes. It needs no file on the
   host, so it works over remote connections too.

Steps 1 and 2 are free and run first; the verdict is cached per URI for the life
of the process, because it only changes when the host is reconfigured.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

import libvirt
from lxml import etree

from hypervisor.capabilities import Capabilities
from hypervisor.errors import DomainNotFound, HypervisorError, libvirt_errors

log = logging.getLogger(__name__)

BOOT_CHECK_TIMEOUT_S = 10.0
_POLL_INTERVAL_S = 0.05
_X86_ARCHES = frozenset({"x86_64", "i686"})
_HARDWARE_VIRT_FEATURES = frozenset({"vmx", "svm"})

_verdicts: dict[str, bool] = {}
_verdicts_lock = threading.Lock()
_probe_locks: dict[str, threading.Lock] = {}


def kvm_usable(uri: str, conn: libvirt.virConnect, caps: Capabilities) -> bool:
    """Whether guests on this QEMU host should use ``<domain type='kvm'>``."""
    with _verdicts_lock:
        probe_lock = _probe_locks.setdefault(uri, threading.Lock())
    with probe_lock:  # one probe per host at a time; later callers reuse its verdict
        with _verdicts_lock:
            if uri in _verdicts:
                return _verdicts[uri]
        started = time.monotonic()
        verdict, reason = _decide(uri, conn, caps)
        elapsed = time.monotonic() - started
        log.info("KVM on %s: %s (%s, %.1f s)", uri, "usable" if verdict else "not usable", reason, elapsed)
        with _verdicts_lock:
            _verdicts[uri] = verdict
        return verdict


def _decide(uri: str, conn: libvirt.virConnect, caps: Capabilities) -> tuple[bool, str]:
    try:
        with libvirt_errors(uri):
            domcaps = etree.fromstring(conn.getDomainCapabilities(None, caps.arch, None, "kvm", 0).encode())
    except HypervisorError as exc:
        if exc.transient:
            raise  # the host is not answering: no verdict, nothing cached
        return False, f"domain capabilities: {exc.message}"
    if domcaps.findtext("domain") != "kvm":
        return False, "domain capabilities do not offer kvm"
    if caps.arch in _X86_ARCHES and not caps.cpu_features & _HARDWARE_VIRT_FEATURES:
        return False, "the host CPU has no vmx/svm: KVM would not be hardware-assisted"
    return boot_check(uri, conn, caps.arch)


def boot_check(uri: str, conn: libvirt.virConnect, arch: str) -> tuple[bool, str]:
    """Step 3 alone: (passed, why). Leaves no domain behind either way.

    Errors that say the host stopped answering propagate (HostUnreachable):
    they say nothing about KVM.
    """
    try:
        with libvirt_errors(uri):
            domain = conn.createXML(_probe_domain_xml(arch), 0)
            probe_uuid = domain.UUIDString()
    except HypervisorError as exc:
        if exc.transient:
            raise
        return False, f"boot check guest did not start: {exc.message}"
    deadline = time.monotonic() + BOOT_CHECK_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with libvirt_errors(uri):
                conn.lookupByUUIDString(probe_uuid)
        except DomainNotFound:
            return True, "boot check passed"
        time.sleep(_POLL_INTERVAL_S)
    try:
        with libvirt_errors(uri):
            domain.destroy()
    except HypervisorError:
        pass  # it may have vanished in the meantime; either way it is gone
    return False, f"boot check guest did not finish its firmware within {BOOT_CHECK_TIMEOUT_S:g} s"


def _probe_domain_xml(arch: str) -> str:
    root = etree.Element("domain", type="kvm")
    etree.SubElement(root, "name").text = f"pt-kvm-probe-{uuid.uuid4().hex[:12]}"
    etree.SubElement(root, "memory", unit="MiB").text = "16"
    etree.SubElement(root, "vcpu").text = "1"
    os_element = etree.SubElement(root, "os")
    etree.SubElement(os_element, "type", arch=arch).text = "hvm"
    # No boot device: the firmware gives up and, with a zero timeout, reboots.
    etree.SubElement(os_element, "bios", rebootTimeout="0")
    etree.SubElement(root, "on_reboot").text = "destroy"
    return etree.tostring(root, encoding="unicode")
