"""hypervisor.qemu_img on real files made here with qemu-img and by hand:
what is a disk image, what is an ISO, and the clear refusals of the rest
(qemu-img alone calls any file "raw", a text file included)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hypervisor import HypervisorError
from hypervisor import qemu_img
from hypervisor.qemu_img import InvalidImage, QemuImgError, image_info, image_inspect

MIB = 1024 * 1024


def qemu_img_create(path: Path, size: str, *options: str) -> Path:
    subprocess.run(["qemu-img", "create", "-q", *options, str(path), size], check=True)
    return path


def mbr_disk(path: Path, size: int = MIB) -> Path:
    """A raw disk with an (empty) MBR: only the boot signature."""
    data = bytearray(size)
    data[510:512] = b"\x55\xaa"
    path.write_bytes(bytes(data))
    return path


def tiny_iso(path: Path) -> Path:
    """32 KiB of system area, then a primary volume descriptor ("CD001" at
    0x8001) and a terminator: enough for the signature, no root needed."""
    data = bytearray(0x8000)
    data += b"\x01CD001\x01" + bytes(2048 - 7)
    data += b"\xffCD001\x01" + bytes(2048 - 7)
    path.write_bytes(bytes(data))
    return path


def text_file(path: Path, size: int | None = None) -> Path:
    text = "This is a README, not a disk.\n" * 200
    path.write_text(text[:size] if size else text)
    return path


def test_image_info_reads_a_qcow2(tmp_path):
    disk = qemu_img_create(tmp_path / "disk.qcow2", "64M", "-f", "qcow2")

    info = image_info(disk)

    assert info.format == "qcow2"
    assert info.virtual_size_bytes == 64 * MIB
    assert 0 < info.actual_size_bytes < MIB
    assert info.backing_file is None


def test_it_accepts_a_qcow2_disk(tmp_path):
    disk = qemu_img_create(tmp_path / "disk.qcow2", "1G", "-f", "qcow2")

    info = image_inspect(disk, content="disk")

    assert (info.format, info.virtual_size_bytes) == ("qcow2", 1024 * MIB)


def test_it_accepts_a_raw_disk_with_a_boot_signature(tmp_path):
    info = image_inspect(mbr_disk(tmp_path / "disk.img"), content="disk")

    assert (info.format, info.virtual_size_bytes) == ("raw", MIB)


def test_it_accepts_a_blank_raw_disk_of_whole_sectors(tmp_path):
    blank = tmp_path / "blank.img"
    blank.write_bytes(bytes(4096))

    assert image_inspect(blank, content="disk").format == "raw"


def test_it_accepts_a_monolithic_vmdk(tmp_path):
    disk = qemu_img_create(tmp_path / "disk.vmdk", "8M", "-f", "vmdk")

    assert image_inspect(disk, content="disk").format == "vmdk"


def test_it_refuses_a_text_file_as_a_disk(tmp_path):
    with pytest.raises(InvalidImage, match="The file is not a disk image: it looks like text."):
        image_inspect(text_file(tmp_path / "README.txt"), content="disk")


def test_it_refuses_text_even_of_whole_sectors(tmp_path):
    readme = text_file(tmp_path / "README.txt", size=1024)
    assert readme.stat().st_size == 1024

    with pytest.raises(InvalidImage, match="looks like text"):
        image_inspect(readme, content="disk")


def test_it_refuses_binary_that_is_not_whole_sectors(tmp_path):
    odd = tmp_path / "photo.jpg"
    odd.write_bytes(b"\xff\xd8\xff\xe0" + bytes(1000))

    with pytest.raises(InvalidImage, match="not a multiple of 512 bytes"):
        image_inspect(odd, content="disk")


def test_it_refuses_an_empty_file(tmp_path):
    empty = tmp_path / "empty.img"
    empty.touch()

    with pytest.raises(InvalidImage, match="The file is empty"):
        image_inspect(empty, content="disk")


def test_it_refuses_a_qcow2_with_a_backing_file(tmp_path):
    base = qemu_img_create(tmp_path / "base.qcow2", "8M", "-f", "qcow2")
    overlay = qemu_img_create(tmp_path / "overlay.qcow2", "8M", "-f", "qcow2", "-b", str(base), "-F", "qcow2")

    with pytest.raises(InvalidImage, match=r"has a backing file .*base\.qcow2.*standalone"):
        image_inspect(overlay, content="disk")


def test_it_refuses_a_vmdk_made_of_several_files(tmp_path):
    disk = qemu_img_create(tmp_path / "split.vmdk", "8M", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse")

    with pytest.raises(InvalidImage, match="refers to other files"):
        image_inspect(disk, content="disk")


def test_it_recognises_an_iso(tmp_path):
    info = image_inspect(tiny_iso(tmp_path / "tiny.iso"), content="iso")

    assert info.format == "iso"
    assert info.virtual_size_bytes == 0x8000 + 2 * 2048


def test_it_refuses_an_iso_uploaded_as_a_disk(tmp_path):
    with pytest.raises(InvalidImage, match="is an ISO image, not a disk image: upload it with content iso"):
        image_inspect(tiny_iso(tmp_path / "tiny.iso"), content="disk")


def test_it_refuses_a_text_file_as_an_iso(tmp_path):
    with pytest.raises(InvalidImage, match="The file is not an ISO image: it looks like text."):
        image_inspect(text_file(tmp_path / "README.txt"), content="iso")


def test_it_refuses_a_raw_disk_as_an_iso(tmp_path):
    with pytest.raises(InvalidImage, match="no ISO 9660 signature"):
        image_inspect(mbr_disk(tmp_path / "disk.img"), content="iso")


def test_it_refuses_a_qcow2_as_an_iso(tmp_path):
    disk = qemu_img_create(tmp_path / "disk.qcow2", "8M", "-f", "qcow2")

    with pytest.raises(InvalidImage, match="not an ISO image: it is a qcow2 disk image"):
        image_inspect(disk, content="iso")


def test_it_says_when_qemu_img_cannot_read_the_file(tmp_path):
    with pytest.raises(InvalidImage, match="qemu-img cannot read the file.*No such file"):
        image_info(tmp_path / "missing.qcow2")


def test_it_says_when_qemu_img_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(qemu_img, "QEMU_IMG", str(tmp_path / "no-qemu-img"))

    with pytest.raises(QemuImgError, match="qemu-img is not installed") as raised:
        image_info(mbr_disk(tmp_path / "disk.img"))
    assert isinstance(raised.value, HypervisorError)


def test_it_runs_qemu_img_with_an_argument_list_a_timeout_and_a_shared_lock(tmp_path, monkeypatch):
    seen = {}
    real_run = subprocess.run

    def spy(command, **kwargs):
        seen.update(command=command, **kwargs)
        return real_run(command, **kwargs)

    monkeypatch.setattr(qemu_img.subprocess, "run", spy)
    disk = mbr_disk(tmp_path / "-looks-like-an-option.img")

    image_info(disk)

    assert seen["command"][:4] == ["qemu-img", "info", "--output=json", "--force-share"]
    assert seen["command"][-2:] == ["--", str(disk)]
    assert seen["timeout"] == qemu_img.TIMEOUT_SECONDS
    assert "shell" not in seen
