"""Storage pools on libvirt's test driver (fast lane).

What the test driver does and does not do here: its pools live in the driver's
memory, so a dir pool "exists", builds and starts without any real directory;
its figures are fixed (100 GiB capacity, 0 allocated, 100 GiB available) and
volumes created in it exist only in memory (their allocation is whatever the
XML asked for, and a backing file is never checked). The real figures of a real
directory, real preallocation and real copies are checked in test_storage_real.py.
"""

from __future__ import annotations

import pytest

from hypervisor import Conflict, HostUnreachable, InvalidSpec, InvalidXML, NotFound, NotSupported, get_connection
from hypervisor.storage import (
    PoolInfo,
    PoolSpec,
    build_pool_xml,
    ensure_dir_pool,
    list_pools,
    parse_pool_xml,
    pool_info,
    remove_pool,
)
from hypervisor.volumes import (
    VolumeInfo,
    copy_volume,
    create_volume,
    delete_volume,
    list_volumes,
    overlay_volume,
    upload_volume,
    volume_by_path,
)

GIB = 1024**3
TEST_DRIVER_CAPACITY = 100 * GIB  # the test driver's fixed figure for every pool
SPEC = PoolSpec(name="pt-sd-1", path="/srv/storage/data")


class TestPoolSpec:
    @pytest.mark.parametrize("name, words", [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a/b", "contains '/'"),
        ("two\nlines", "single line"),
    ])
    def test_it_refuses_a_bad_name(self, name, words):
        with pytest.raises(InvalidSpec) as caught:
            PoolSpec(name=name, path="/srv/x")
        assert words in caught.value.message

    @pytest.mark.parametrize("path", ["", "srv/x", "./x", "~/x"])
    def test_it_refuses_a_path_that_is_not_absolute(self, path):
        with pytest.raises(InvalidSpec) as caught:
            PoolSpec(name="p", path=path)
        assert "absolute" in caught.value.message

    def test_it_refuses_pool_types_it_cannot_build(self):
        with pytest.raises(InvalidSpec) as caught:
            PoolSpec(name="p", path="/srv/x", type="logical")
        assert "Pool type must be one of dir, netfs" in caught.value.message

    @pytest.mark.parametrize("host, export, words", [
        ("", "/export", "neither a host name"),
        ("nfs server", "/export", "neither a host name"),
        ("-nfs.example.org", "/export", "neither a host name"),
        ("nfs.example.org:/x", "/export", "neither a host name"),
        ("nfs1", "export", "absolute path on the server"),
        ("nfs1", "", "absolute path on the server"),
        ("nfs1", "/a\nb", "single line"),
    ])
    def test_it_refuses_a_bad_nfs_source(self, host, export, words):
        with pytest.raises(InvalidSpec) as caught:
            PoolSpec(name="p", path="/mnt/x", type="netfs", source_host=host, source_dir=export)
        assert words in caught.value.message

    @pytest.mark.parametrize("host", ["nfs1", "nfs.example.org", "10.0.0.5", "fd00::5"])
    def test_it_takes_host_names_and_addresses_as_nfs_servers(self, host):
        spec = PoolSpec(name="p", path="/mnt/x", type="netfs", source_host=host, source_dir="/export//data/")
        assert spec.source_dir == "/export/data"
        assert spec.source == (f"[{host}]:/export/data" if ":" in host else f"{host}:/export/data")

    def test_a_dir_pool_has_no_nfs_source(self):
        with pytest.raises(InvalidSpec, match="has no NFS server"):
            PoolSpec(name="p", path="/srv/x", source_host="nfs1")

    def test_it_spells_the_path_as_libvirt_does(self):
        assert PoolSpec(name="p", path="//srv//x/./y/").path == "/srv/x/y"


class TestPoolXml:
    def test_it_builds_a_dir_pool(self):
        xml = build_pool_xml(SPEC)
        assert xml.startswith('<pool type="dir">')
        assert "<name>pt-sd-1</name>" in xml
        assert "<target>\n    <path>/srv/storage/data</path>\n  </target>" in xml

    def test_it_builds_an_nfs_pool(self):
        spec = PoolSpec(name="pt-sd-2", path="/mnt/nfs", type="netfs", source_host="nfs1", source_dir="/export")
        xml = build_pool_xml(spec)
        assert xml.startswith('<pool type="netfs">')
        assert ('<source>\n    <host name="nfs1"/>\n    <dir path="/export"/>\n    <format type="nfs"/>\n'
                '  </source>') in xml
        assert "<target>\n    <path>/mnt/nfs</path>\n  </target>" in xml
        assert parse_pool_xml(xml) == spec

    def test_it_escapes_text_instead_of_formatting_it(self):
        spec = PoolSpec(name="a<b>&'c\"", path="/srv/<x>&y")
        xml = build_pool_xml(spec)
        assert "<name>a&lt;b&gt;&amp;'c\"</name>" in xml
        assert parse_pool_xml(xml) == spec

    def test_it_reads_back_what_it_built(self):
        assert parse_pool_xml(build_pool_xml(SPEC)) == SPEC

    def test_it_reads_the_xml_libvirt_hands_back(self, small_host):
        ensure_dir_pool(small_host, SPEC)
        dumped = get_connection(small_host).storagePoolLookupByName(SPEC.name).XMLDesc(0)
        assert "<capacity unit='bytes'>" in dumped  # libvirt's own, with figures and uuid
        assert parse_pool_xml(dumped) == SPEC

    @pytest.mark.parametrize("xml, words", [
        ("<pool type='dir'><name>p</name>", "not well-formed"),
        ("<network><name>p</name></network>", "Expected a <pool>"),
        ("<pool type='dir'><target><path>/x</path></target></pool>", "no <name>"),
        ("<pool type='dir'><name>p</name></pool>", "no <target><path>"),
    ])
    def test_it_refuses_xml_that_is_not_a_pool(self, xml, words):
        with pytest.raises(InvalidXML) as caught:
            parse_pool_xml(xml)
        assert words in caught.value.message

    def test_it_does_not_resolve_entities(self):
        xml = (
            '<!DOCTYPE pool [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
            "<pool type='dir'><name>&secret;</name><target><path>/x</path></target></pool>"
        )
        with pytest.raises(InvalidXML) as caught:
            parse_pool_xml(xml)
        assert "no <name>" in caught.value.message  # the entity stays unresolved: no file read


NFS_SPEC = PoolSpec(name="pt-sd-9", path="/mnt/pt-sd-9", type="netfs", source_host="nfs1", source_dir="/export")


class TestNfsPoolOnSimulatedHost:
    """The test driver accepts netfs pools and "starts" them without mounting
    anything: the XML round trip and our idempotence rules, not a mount."""

    def test_it_defines_and_starts_an_nfs_pool_and_reads_it_back(self, small_host):
        info = ensure_dir_pool(small_host, NFS_SPEC)

        assert (info.name, info.path, info.state) == (NFS_SPEC.name, NFS_SPEC.path, "running")
        assert ensure_dir_pool(small_host, NFS_SPEC) == info
        dumped = get_connection(small_host).storagePoolLookupByName(NFS_SPEC.name).XMLDesc(0)
        assert parse_pool_xml(dumped) == NFS_SPEC

    def test_another_export_under_the_same_name_is_left_alone(self, small_host):
        ensure_dir_pool(small_host, NFS_SPEC)
        other = PoolSpec(name=NFS_SPEC.name, path=NFS_SPEC.path, type="netfs", source_host="nfs2",
                         source_dir="/export")
        with pytest.raises(Conflict) as caught:
            ensure_dir_pool(small_host, other)
        assert "from nfs1:/export (type netfs), not over /mnt/pt-sd-9 from nfs2:/export" in caught.value.message

    def test_a_dir_pool_over_the_mount_point_is_in_the_way(self, small_host):
        ensure_dir_pool(small_host, PoolSpec(name="someone", path=NFS_SPEC.path))
        with pytest.raises(Conflict, match="already the storage pool 'someone'"):
            ensure_dir_pool(small_host, NFS_SPEC)


class TestEnsureDirPool:
    def test_it_defines_builds_starts_and_autostarts_a_pool(self, small_host):
        info = ensure_dir_pool(small_host, SPEC)

        assert isinstance(info, PoolInfo)
        assert info.name == SPEC.name and info.path == SPEC.path and info.state == "running"
        figures = (info.capacity_bytes, info.allocation_bytes, info.available_bytes)
        assert figures == (TEST_DRIVER_CAPACITY, 0, TEST_DRIVER_CAPACITY)
        pool = get_connection(small_host).storagePoolLookupByName(SPEC.name)
        assert pool.isPersistent() and pool.autostart() == 1
        assert pool.UUIDString() == info.uuid

    def test_it_is_idempotent(self, small_host):
        first = ensure_dir_pool(small_host, SPEC)
        again = ensure_dir_pool(small_host, PoolSpec(name=SPEC.name, path=SPEC.path + "/"))

        assert again == first
        assert list_pools(small_host) == (SPEC.name,)

    def test_it_starts_a_pool_that_was_stopped(self, small_host):
        ensure_dir_pool(small_host, SPEC)
        get_connection(small_host).storagePoolLookupByName(SPEC.name).destroy()
        assert pool_info(small_host, SPEC.name).state == "inactive"

        assert ensure_dir_pool(small_host, SPEC).state == "running"

    def test_it_makes_a_transient_pool_of_that_name_persistent(self, small_host):
        get_connection(small_host).storagePoolCreateXML(build_pool_xml(SPEC), 0)

        ensure_dir_pool(small_host, SPEC)

        pool = get_connection(small_host).storagePoolLookupByName(SPEC.name)
        assert pool.isPersistent() and pool.isActive() and pool.autostart() == 1

    def test_it_refuses_a_pool_of_that_name_over_another_directory(self, small_host):
        ensure_dir_pool(small_host, SPEC)

        with pytest.raises(Conflict) as caught:
            ensure_dir_pool(small_host, PoolSpec(name=SPEC.name, path="/srv/elsewhere"))

        message = caught.value.message
        assert "named 'pt-sd-1' already exists" in message
        assert "/srv/storage/data" in message and "/srv/elsewhere" in message
        assert pool_info(small_host, SPEC.name).path == SPEC.path  # left as it was

    def test_it_refuses_a_second_pool_over_the_same_directory(self, small_host):
        ensure_dir_pool(small_host, SPEC)

        with pytest.raises(Conflict) as caught:
            ensure_dir_pool(small_host, PoolSpec(name="pt-sd-2", path=SPEC.path))

        assert "already the storage pool 'pt-sd-1'" in caught.value.message
        assert list_pools(small_host) == (SPEC.name,)

    def test_it_says_when_the_host_cannot_be_reached(self):
        with pytest.raises(HostUnreachable):
            ensure_dir_pool("qemu+tcp://127.0.0.1:1/system", SPEC)

    def test_each_simulated_host_has_its_own_pools(self, small_host):
        from tests.hypervisor.support import HOSTS_DIR, node_uri

        other = node_uri(HOSTS_DIR / "two-socket-ht.xml")
        ensure_dir_pool(small_host, SPEC)
        assert SPEC.name not in list_pools(other)


class TestPoolInfoAndRemoval:
    def test_it_reports_a_missing_pool_as_not_found(self, small_host):
        with pytest.raises(NotFound):
            pool_info(small_host, "pt-sd-404")

    def test_it_removes_a_pool_and_says_whether_there_was_one(self, small_host):
        ensure_dir_pool(small_host, SPEC)

        assert remove_pool(small_host, SPEC.name) is True
        assert list_pools(small_host) == ()
        assert remove_pool(small_host, SPEC.name) is False

    def test_it_removes_a_stopped_pool(self, small_host):
        ensure_dir_pool(small_host, SPEC)
        get_connection(small_host).storagePoolLookupByName(SPEC.name).destroy()

        assert remove_pool(small_host, SPEC.name) is True
        assert list_pools(small_host) == ()


class TestVolumes:
    def create_volume(self, uri: str, name: str, capacity: int, fmt: str) -> None:
        pool = get_connection(uri).storagePoolLookupByName(SPEC.name)
        pool.createXML(
            f"<volume><name>{name}</name><capacity>{capacity}</capacity>"
            f"<target><format type='{fmt}'/></target></volume>",
            0,
        )

    def test_it_lists_the_volumes_of_a_pool(self, small_host):
        ensure_dir_pool(small_host, SPEC)
        self.create_volume(small_host, "debian.iso", 4 * 1024**2, "raw")
        self.create_volume(small_host, "a-disk.qcow2", GIB, "qcow2")

        volumes = list_volumes(small_host, SPEC.name)

        assert [v.name for v in volumes] == ["a-disk.qcow2", "debian.iso"]
        assert volumes[1] == VolumeInfo(
            name="debian.iso", path="/srv/storage/data/debian.iso",
            capacity_bytes=4 * 1024**2, allocation_bytes=4 * 1024**2, format="raw",
        )
        assert volumes[0].format == "qcow2" and volumes[0].capacity_bytes == GIB

    def test_an_empty_pool_has_no_volumes(self, small_host):
        ensure_dir_pool(small_host, SPEC)
        assert list_volumes(small_host, SPEC.name) == []

    def test_it_refuses_to_list_a_stopped_pool(self, small_host):
        ensure_dir_pool(small_host, SPEC)
        get_connection(small_host).storagePoolLookupByName(SPEC.name).destroy()

        with pytest.raises(Conflict) as caught:
            list_volumes(small_host, SPEC.name)
        assert "not running" in caught.value.message


MIB = 1024**2
DATA = SPEC.path


@pytest.fixture
def pool(small_host) -> str:
    ensure_dir_pool(small_host, SPEC)
    return SPEC.name


def volume_xml(uri: str, path: str) -> str:
    return get_connection(uri).storageVolLookupByPath(path).XMLDesc(0)


class TestCreateVolume:
    def test_it_creates_a_thin_qcow2(self, small_host, pool):
        info = create_volume(small_host, pool, "disk.qcow2", capacity_bytes=GIB, format="qcow2")

        assert info == VolumeInfo(
            name="disk.qcow2", path=f"{DATA}/disk.qcow2", capacity_bytes=GIB, allocation_bytes=0, format="qcow2"
        )
        assert "<compat>1.1</compat>" in volume_xml(small_host, info.path)  # qcow2 v3, not libvirt's v2 default

    def test_it_asks_for_a_raw_volume_with_its_whole_capacity_allocated(self, small_host, pool):
        info = create_volume(small_host, pool, "disk.img", capacity_bytes=64 * MIB, format="raw")

        assert (info.format, info.capacity_bytes, info.allocation_bytes) == ("raw", 64 * MIB, 64 * MIB)

    def test_it_escapes_the_name_into_the_xml(self, small_host, pool):
        info = create_volume(small_host, pool, "a&b<c>'d\".qcow2", capacity_bytes=MIB, format="qcow2")

        assert info.name == "a&b<c>'d\".qcow2" and info.path == f"{DATA}/a&b<c>'d\".qcow2"

    def test_it_refuses_a_name_that_is_taken(self, small_host, pool):
        create_volume(small_host, pool, "disk.qcow2", capacity_bytes=MIB, format="qcow2")

        with pytest.raises(Conflict) as caught:
            create_volume(small_host, pool, "disk.qcow2", capacity_bytes=GIB, format="raw")

        assert caught.value.message == (
            f"A volume named 'disk.qcow2' already exists in the storage pool '{pool}' on {small_host}."
        )
        assert volume_by_path(small_host, f"{DATA}/disk.qcow2").capacity_bytes == MIB  # left as it was

    @pytest.mark.parametrize("name, words", [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        ("a/b", "contains '/'"),
        ("../escape", "contains '/'"),
        ("..", "contains '..'"),
        ("a..b", "contains '..'"),
        (".hidden", "starts with '.'"),
        (".", "starts with '.'"),
        ("two\nlines", "single line"),
        ("nul\x00", "cannot be stored in XML"),
        ("x" * 256, "longer than 255 bytes"),
        ("é" * 128, "longer than 255 bytes"),
        (42, "must be text"),
    ])
    def test_it_refuses_a_name_that_is_not_a_plain_file_name(self, small_host, pool, name, words):
        with pytest.raises(InvalidSpec) as caught:
            create_volume(small_host, pool, name, capacity_bytes=MIB, format="qcow2")
        assert words in caught.value.message
        assert list_volumes(small_host, pool) == []

    @pytest.mark.parametrize("capacity, words", [
        (0, "positive whole number"),
        (-512, "positive whole number"),
        (1.5, "positive whole number"),
        (1000, "multiple of 512"),
    ])
    def test_it_refuses_a_bad_capacity(self, small_host, pool, capacity, words):
        with pytest.raises(InvalidSpec) as caught:
            create_volume(small_host, pool, "disk.qcow2", capacity_bytes=capacity, format="qcow2")
        assert words in caught.value.message

    def test_it_refuses_formats_it_does_not_make(self, small_host, pool):
        with pytest.raises(InvalidSpec) as caught:
            create_volume(small_host, pool, "disk.vmdk", capacity_bytes=MIB, format="vmdk")
        assert "Volume format must be one of qcow2, raw" in caught.value.message

    def test_it_needs_a_running_pool(self, small_host, pool):
        get_connection(small_host).storagePoolLookupByName(pool).destroy()

        with pytest.raises(Conflict) as caught:
            create_volume(small_host, pool, "disk.qcow2", capacity_bytes=MIB, format="qcow2")
        assert "not running" in caught.value.message
        with pytest.raises(NotFound):
            create_volume(small_host, "pt-sd-404", "disk.qcow2", capacity_bytes=MIB, format="qcow2")


class TestCopyVolume:
    def test_it_copies_into_the_format_asked_and_grows_the_copy(self, small_host, pool):
        source = create_volume(small_host, pool, "upload.qcow2", capacity_bytes=16 * MIB, format="qcow2")

        copy = copy_volume(small_host, pool, "disk.img", source_path=source.path, format="raw", capacity_bytes=GIB)

        assert copy == VolumeInfo(
            name="disk.img", path=f"{DATA}/disk.img", capacity_bytes=GIB, allocation_bytes=GIB, format="raw"
        )

    def test_it_keeps_the_source_size_by_default(self, small_host, pool):
        source = create_volume(small_host, pool, "upload.img", capacity_bytes=16 * MIB, format="raw")

        copy = copy_volume(small_host, pool, "disk.qcow2", source_path=source.path, format="qcow2")

        assert (copy.format, copy.capacity_bytes) == ("qcow2", 16 * MIB)
        assert volume_by_path(small_host, source.path) == source  # the source is untouched

    def test_it_refuses_to_cut_the_disk(self, small_host, pool):
        source = create_volume(small_host, pool, "upload.img", capacity_bytes=16 * MIB, format="raw")

        with pytest.raises(InvalidSpec) as caught:
            copy_volume(small_host, pool, "disk.img", source_path=source.path, format="raw", capacity_bytes=MIB)
        assert "cannot be smaller than its source (16777216 bytes)" in caught.value.message
        assert [v.name for v in list_volumes(small_host, pool)] == ["upload.img"]

    def test_it_needs_the_source_to_be_a_volume(self, small_host, pool):
        with pytest.raises(NotFound) as caught:
            copy_volume(small_host, pool, "disk.img", source_path="/elsewhere/upload.img", format="raw")
        assert "No storage volume at /elsewhere/upload.img" in caught.value.message

    def test_it_refuses_a_name_that_is_taken(self, small_host, pool):
        source = create_volume(small_host, pool, "upload.img", capacity_bytes=MIB, format="raw")

        with pytest.raises(Conflict):
            copy_volume(small_host, pool, "upload.img", source_path=source.path, format="raw")

    def test_it_refuses_a_relative_source(self, small_host, pool):
        with pytest.raises(InvalidSpec) as caught:
            copy_volume(small_host, pool, "disk.img", source_path="upload.img", format="raw")
        assert "must be absolute" in caught.value.message


class TestOverlayVolume:
    def test_it_makes_a_qcow2_over_the_backing_file(self, small_host, pool):
        base = create_volume(small_host, pool, "template.qcow2", capacity_bytes=GIB, format="qcow2")

        clone = overlay_volume(small_host, pool, "vm-1.qcow2", backing_path=base.path, backing_format="qcow2")

        assert (clone.format, clone.capacity_bytes, clone.path) == ("qcow2", GIB, f"{DATA}/vm-1.qcow2")
        xml = volume_xml(small_host, clone.path)
        assert f"<backingStore>\n    <path>{base.path}</path>\n    <format type='qcow2'/>" in xml

    def test_it_needs_the_backing_file_to_be_a_volume(self, small_host, pool):
        with pytest.raises(NotFound):
            overlay_volume(small_host, pool, "vm-1.qcow2", backing_path=f"{DATA}/gone.qcow2", backing_format="qcow2")

    def test_it_refuses_an_unknown_backing_format(self, small_host, pool):
        with pytest.raises(InvalidSpec) as caught:
            overlay_volume(small_host, pool, "vm-1.qcow2", backing_path=f"{DATA}/t.vmdk", backing_format="vmdk")
        assert "Backing format must be one of qcow2, raw" in caught.value.message


class TestDeleteVolume:
    def test_it_deletes_a_volume_and_says_whether_there_was_one(self, small_host, pool):
        info = create_volume(small_host, pool, "disk.qcow2", capacity_bytes=MIB, format="qcow2")

        assert delete_volume(small_host, info.path) is True
        assert list_volumes(small_host, pool) == []
        assert delete_volume(small_host, info.path) is False

    def test_a_path_outside_every_pool_is_no_volume(self, small_host, pool):
        assert delete_volume(small_host, "/etc/passwd") is False

    def test_it_spells_the_path_as_libvirt_does(self, small_host, pool):
        create_volume(small_host, pool, "disk.qcow2", capacity_bytes=MIB, format="qcow2")

        assert volume_by_path(small_host, f"/{DATA}//./disk.qcow2").name == "disk.qcow2"
        assert delete_volume(small_host, f"{DATA}/../data/disk.qcow2") is True

    def test_it_reports_a_missing_volume_by_path_as_not_found(self, small_host, pool):
        with pytest.raises(NotFound):
            volume_by_path(small_host, f"{DATA}/nothing.qcow2")


class TestUploadVolume:
    """The test driver has no volume upload: what is checked before, and the
    clean-up after, are tested here; the bytes reaching a host in
    test_storage_real.py."""

    def test_the_test_driver_cannot_upload_and_no_volume_stays(self, small_host, pool, tmp_path):
        source = tmp_path / "disk.img"
        source.write_bytes(b"\0" * 4096)

        with pytest.raises(NotSupported):
            upload_volume(small_host, pool, "disk.img", source_file=str(source), capacity_bytes=4096, format="raw")

        assert list_volumes(small_host, pool) == []

    @pytest.mark.parametrize("name, fmt, size, words", [
        ("../escape.img", "raw", 512, "contains '/'"),
        ("disk.dmg", "dmg", 512, "Image format must be one of"),
        ("disk.img", "raw", 0, "positive whole number"),
    ])
    def test_it_refuses_bad_arguments_before_creating_anything(self, small_host, pool, tmp_path, name, fmt, size,
                                                               words):
        with pytest.raises(InvalidSpec, match=words):
            upload_volume(small_host, pool, name, source_file=str(tmp_path / "x"), capacity_bytes=size, format=fmt)
        assert list_volumes(small_host, pool) == []
