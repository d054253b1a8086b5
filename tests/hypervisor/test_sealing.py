"""hypervisor.sealing's contract where virt-sysprep never starts: sealing
runs beside the disks, so a host it cannot reach that way is CannotSeal with
the reason, and nothing is written. Then one real run on a file that is no
qcow2: a failure that is not "cannot inspect" stays a plain HypervisorError
(the template job fails on it)."""

from __future__ import annotations

import pytest

from hypervisor import HypervisorError
from hypervisor.sealing import SEAL_OPERATIONS, CannotSeal, NotInspectable, seal_volumes


@pytest.mark.parametrize(("uri", "reason"), [
    ("qemu+ssh://root@node7.example/system", "remote host node7.example"),
    ("qemu+tls://node7.example/system", "remote host node7.example"),
    ("test:///default", "test driver"),
])
def test_a_host_it_cannot_run_beside_is_cannot_seal_saying_why(uri, reason, tmp_path):
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(b"")
    with pytest.raises(CannotSeal, match=reason):
        seal_volumes(uri, [str(disk)], kvm=False)


def test_a_path_this_machine_does_not_see_is_cannot_seal(tmp_path):
    with pytest.raises(CannotSeal, match="does not see .*nowhere.qcow2"):
        seal_volumes("qemu:///system", [str(tmp_path / "nowhere.qcow2")], kvm=False)
    with pytest.raises(CannotSeal, match="no disks"):
        seal_volumes("qemu:///system", [], kvm=False)


def test_the_operations_are_named_once_and_customize_leaves_machine_id_empty():
    names = [operation.name for operation in SEAL_OPERATIONS]
    assert len(names) == len(set(names)) == 36
    assert {"machine-id", "ssh-hostkeys", "udev-persistent-net", "logfiles", "bash-history", "customize"} <= set(names)
    assert "script" not in names  # it does nothing without a script


@pytest.mark.real
def test_virt_sysprep_failing_on_a_file_that_is_no_qcow2_is_a_plain_error(tmp_path):
    disk = tmp_path / "text.qcow2"
    disk.write_text("not a disk image\n" * 64)
    with pytest.raises(HypervisorError, match="virt-sysprep failed") as raised:
        seal_volumes("qemu:///system", [str(disk)], kvm=False, timeout=300)
    assert not isinstance(raised.value, NotInspectable | CannotSeal)
