"""Reading osinfo-db: the hand-written tree in tests/fixtures/osinfo and the
real /usr/share/osinfo that set-up installs (Debian 12's osinfo-db)."""

import datetime as dt
import time

import pytest

from tests.support.processes import REPO
from vms import osinfo

FIXTURES = REPO / "tests" / "fixtures" / "osinfo"
BASE = FIXTURES / "base"
EXTRA = FIXTURES / "extra"


def catalogue(*roots):
    return {entry.short_id: entry for entry in osinfo.load_catalogue(list(roots)).entries}


@pytest.fixture(scope="module")
def base():
    return catalogue(BASE)


def defaults(entry):
    return (entry.virtio, entry.disk_bus, entry.nic_model, entry.video_model,
            entry.clock_offset, entry.hyperv, entry.guest_agent)  # fmt: skip


def test_it_reads_the_plain_facts_of_an_os(base):
    penguin = base["penguin1"]
    assert penguin.name == "Penguin 1"  # not the German one
    assert penguin.vendor == "Penguin Project" and penguin.version == "1"
    assert penguin.family == "linux" and penguin.source == "osinfo"
    assert penguin.release_date == dt.date(2018, 3, 1) and penguin.eol_date == dt.date(2023, 3, 1)
    assert penguin.os_id == "http://example.org/penguin/1"


def test_it_prefers_x86_64_resources_over_other_architectures(base):
    penguin = base["penguin1"]
    assert (penguin.minimum_memory_mb, penguin.minimum_vcpus, penguin.minimum_disk_gb) == (512, 1, 5)
    assert (penguin.recommended_memory_mb, penguin.recommended_vcpus, penguin.recommended_disk_gb) == (2048, 2, 20)


def test_it_gives_a_modern_linux_with_virtio_paravirtual_devices(base):
    assert defaults(base["penguin1"]) == (True, "virtio", "virtio", "virtio", "utc", False, True)


def test_it_inherits_virtio_and_missing_resources_through_derives_from(base):
    penguin = base["penguin2"]
    assert defaults(penguin) == (True, "virtio", "virtio", "virtio", "utc", False, True)
    # Its own minimum RAM, the rest from penguin1.
    assert (penguin.minimum_memory_mb, penguin.minimum_vcpus, penguin.minimum_disk_gb) == (1024, 1, 5)
    assert (penguin.recommended_memory_mb, penguin.recommended_vcpus, penguin.recommended_disk_gb) == (2048, 2, 20)


def test_it_keeps_the_first_short_id_and_records_the_others_as_aliases(base):
    assert base["penguin2"].aliases == ("penguinbeak",)
    assert "penguinbeak" not in base


def test_it_inherits_family_and_vendor_and_honours_an_unsupported_device(base):
    penguin = base["penguin3"]
    assert penguin.family == "linux" and penguin.vendor == "Penguin Project"
    assert penguin.virtio and penguin.disk_bus == "virtio"
    assert penguin.video_model == "vga"  # virtio-gpu switched off with supported="false"


def test_it_counts_virtio_win_drivers_of_a_d_fragment_as_virtio_support(base):
    windoze = base["windoze10"]
    assert windoze.family == "windows"
    assert defaults(windoze) == (True, "virtio", "virtio", "qxl", "localtime", True, True)
    assert (windoze.recommended_memory_mb, windoze.recommended_vcpus) == (4096, 2)


def test_it_gives_windows_without_drivers_sata_and_e1000(base):
    assert defaults(base["windozesrv"]) == (False, "sata", "e1000", "qxl", "localtime", True, False)


def test_it_gives_an_old_os_without_virtio_emulated_devices(base):
    assert defaults(base["oldix1.0"]) == (False, "ide", "e1000", "vga", "utc", False, False)
    assert (base["oldix1.0"].minimum_memory_mb, base["oldix1.0"].recommended_memory_mb) == (16, 64)


def test_it_recommends_the_minimum_when_an_os_states_only_that(base):
    tiny = base["tinyos1"]
    assert tiny.family == "other"
    assert (tiny.minimum_memory_mb, tiny.minimum_vcpus, tiny.minimum_disk_gb) == (256, 2, 3)
    assert (tiny.recommended_memory_mb, tiny.recommended_vcpus, tiny.recommended_disk_gb) == (256, 2, 3)
    assert defaults(tiny) == (False, "ide", "e1000", "vga", "utc", False, False)


def test_it_expands_no_entities(base):
    assert base["evil1"].name == "Evil"
    assert "root" not in base["evil1"].name


def test_it_adds_the_built_in_stand_ins(base):
    assert {e.short_id for e in base.values() if e.source == "builtin"} == set(osinfo.BUILTIN_IDS)
    assert base["linux-generic"].name == "Generic Linux"
    assert defaults(base["linux-generic"]) == (True, "virtio", "virtio", "virtio", "utc", False, True)
    assert base["windows-generic"].name == "Generic Windows"
    assert defaults(base["windows-generic"]) == (False, "sata", "e1000", "qxl", "localtime", True, False)
    assert base["other"].name == "Other OS"
    assert defaults(base["other"]) == (False, "ide", "e1000", "vga", "utc", False, False)
    assert base["debian12"].name == "Debian 12" and base["debian12"].family == "linux"
    assert defaults(base["debian12"]) == (True, "virtio", "virtio", "virtio", "utc", False, True)


def test_it_lets_a_later_root_add_oses_and_override_by_short_id():
    both = catalogue(BASE, EXTRA)
    # Added, deriving from an OS of the earlier root.
    assert both["penguin4"].virtio and both["penguin4"].minimum_memory_mb == 1024
    assert both["penguin4"].vendor == "Penguin Project"
    # Replaced: same short-id, another osinfo id.
    assert both["oldix1.0"].name == "Oldix 1.0 (revised)"
    assert both["oldix1.0"].nic_model == "virtio" and both["oldix1.0"].disk_bus == "ide"
    # A real debian12 beats the built-in stand-in.
    assert both["debian12"].source == "osinfo" and both["debian12"].recommended_memory_mb == 2048
    assert len(both) == len(catalogue(BASE)) + 1


def test_it_still_offers_the_built_ins_when_osinfo_db_is_missing(tmp_path):
    result = osinfo.load_catalogue([tmp_path / "nothing-here"])
    assert sorted(e.short_id for e in result.entries) == sorted(osinfo.BUILTIN_IDS)
    assert result.roots_read == () and result.roots_missing == (tmp_path / "nothing-here",)
    assert (result.from_osinfo, result.builtin) == (0, 4)


@pytest.fixture(scope="module")
def real():
    """Debian 12's osinfo-db (2022-11 data), installed by scripts/setup."""
    started = time.perf_counter()
    result = osinfo.load_catalogue()
    return result, time.perf_counter() - started


class TestTheRealOsinfoDb:

    def test_it_reads_every_os_quickly(self, real):
        result, seconds = real
        assert result.roots_read == (osinfo.DEFAULT_ROOT,)
        assert result.from_osinfo >= 790
        assert seconds < 2

    def test_it_gives_debian11_virtio_everything(self, real):
        debian11 = next(e for e in real[0].entries if e.short_id == "debian11")
        assert debian11.name == "Debian 11" and debian11.aliases == ("debianbullseye",)
        assert (debian11.minimum_memory_mb, debian11.recommended_disk_gb) == (1024, 20)
        assert defaults(debian11) == (True, "virtio", "virtio", "virtio", "utc", False, True)

    def test_it_derives_debian12_from_debian11(self, real):
        by_id = {e.short_id: e for e in real[0].entries}
        assert by_id["debian12"].source == "builtin"
        assert defaults(by_id["debian12"]) == defaults(by_id["debian11"])

    def test_it_gives_windows_10_virtio_from_its_driver_lists(self, real):
        win10 = next(e for e in real[0].entries if e.short_id == "win10")
        assert defaults(win10) == (True, "virtio", "virtio", "qxl", "localtime", True, True)

    def test_it_gives_windows_server_2022_sata_and_e1000(self, real):
        # osinfo-db lists no virtio-win drivers for the Server line.
        win2k22 = next(e for e in real[0].entries if e.short_id == "win2k22")
        assert win2k22.name == "Microsoft Windows Server 2022"
        assert defaults(win2k22) == (False, "sata", "e1000", "qxl", "localtime", True, False)
        assert (win2k22.minimum_memory_mb, win2k22.minimum_disk_gb, win2k22.recommended_memory_mb) == (512, 32, 2048)

    @pytest.mark.parametrize(
        "short_id, expected",
        [
            ("win2k", (False, "ide", "e1000", "qxl", "localtime", True, False)),
            ("winnt4.0", (False, "ide", "e1000", "vga", "localtime", True, False)),
            ("msdos6.22", (False, "ide", "e1000", "vga", "utc", False, False)),
            ("freedos1.2", (False, "ide", "e1000", "vga", "utc", False, False)),
        ],
    )
    def test_it_gives_old_oses_emulated_devices(self, real, short_id, expected):
        entry = next(e for e in real[0].entries if e.short_id == short_id)
        assert entry.family != "linux"
        assert defaults(entry) == expected
