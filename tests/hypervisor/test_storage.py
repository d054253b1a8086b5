"""Storage pools on libvirt's test driver (fast lane).

What the test driver does and does not do here: its pools live in the driver's
memory, so a dir pool "exists", builds and starts without any real directory;
its figures are fixed (100 GiB capacity, 0 allocated, 100 GiB available) and
volumes created in it exist only in memory. The real figures of a real
directory are checked in test_storage_real.py.
"""

from __future__ import annotations

import pytest

from hypervisor import Conflict, HostUnreachable, InvalidSpec, InvalidXML, NotFound, get_connection
from hypervisor.storage import (
    PoolInfo,
    PoolSpec,
    VolumeInfo,
    build_pool_xml,
    ensure_dir_pool,
    list_pools,
    list_volumes,
    parse_pool_xml,
    pool_info,
    remove_pool,
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

    def test_it_refuses_pool_types_it_cannot_build_yet(self):
        with pytest.raises(InvalidSpec) as caught:
            PoolSpec(name="p", path="/srv/x", type="netfs")
        assert "Pool type must be one of dir" in caught.value.message

    def test_it_spells_the_path_as_libvirt_does(self):
        assert PoolSpec(name="p", path="//srv//x/./y/").path == "/srv/x/y"


class TestPoolXml:
    def test_it_builds_a_dir_pool(self):
        xml = build_pool_xml(SPEC)
        assert xml.startswith('<pool type="dir">')
        assert "<name>pt-sd-1</name>" in xml
        assert "<target>\n    <path>/srv/storage/data</path>\n  </target>" in xml

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
