"""Importing the OS catalogue and seeding the instance types."""

import io
import re

import pytest
from django.core.management import call_command

from tests.inventory.factories import ClusterFactory
from tests.support.processes import REPO
from vms import osinfo
from vms.models import InstanceType, OperatingSystem, Vm
from vms.services.catalog import instance_types_seed, operating_systems_import, os_profile_of

pytestmark = pytest.mark.django_db

FIXTURES = REPO / "tests" / "fixtures" / "osinfo"
BASE = FIXTURES / "base"
EXTRA = FIXTURES / "extra"
# 8 OSes in base/ plus linux-generic, windows-generic, other and debian12.
BASE_TOTAL = 12


def test_it_imports_the_tree_with_its_defaults():
    result = operating_systems_import(roots=[BASE])
    assert (result.created, result.updated, result.unchanged, result.total) == (BASE_TOTAL, 0, 0, BASE_TOTAL)
    assert (result.from_osinfo, result.builtin) == (BASE_TOTAL - 4, 4)
    windoze = OperatingSystem.objects.get(short_id="windoze10")
    assert (windoze.family, windoze.disk_bus, windoze.nic_model, windoze.video_model) == ("windows", "virtio", "virtio", "qxl")
    assert (windoze.clock_offset, windoze.hyperv, windoze.guest_agent, windoze.source) == ("localtime", True, True, "osinfo")
    assert OperatingSystem.objects.get(short_id="other").source == "builtin"


def test_it_writes_nothing_when_imported_again(django_assert_max_num_queries):
    operating_systems_import(roots=[BASE])
    with django_assert_max_num_queries(3):  # read them all, inside one transaction
        result = operating_systems_import(roots=[BASE])
    assert (result.created, result.updated, result.unchanged) == (0, 0, BASE_TOTAL)


def test_it_updates_what_the_tree_says_differently():
    operating_systems_import(roots=[BASE])
    OperatingSystem.objects.filter(short_id="penguin1").update(name="Pinguin", disk_bus="ide")
    result = operating_systems_import(roots=[BASE])
    assert (result.created, result.updated) == (0, 1)
    penguin = OperatingSystem.objects.get(short_id="penguin1")
    assert (penguin.name, penguin.disk_bus) == ("Penguin 1", "virtio")


def test_it_adds_an_extra_root_and_replaces_a_stand_in():
    operating_systems_import(roots=[BASE])
    assert OperatingSystem.objects.get(short_id="debian12").source == "builtin"
    result = operating_systems_import(roots=[BASE, EXTRA])
    assert result.created == 1  # penguin4
    assert result.updated == 2  # oldix1.0 revised, debian12 from the extra root
    assert OperatingSystem.objects.get(short_id="debian12").source == "osinfo"


def test_it_keeps_oses_that_left_the_tree_and_the_vms_using_them():
    operating_systems_import(roots=[BASE, EXTRA])
    cluster = ClusterFactory()
    vm = Vm.objects.create(
        name="web", data_center=cluster.data_center, cluster=cluster,
        os_type=OperatingSystem.objects.get(short_id="penguin4"), memory_mb=1024,
    )  # fmt: skip
    result = operating_systems_import(roots=[BASE])
    assert result.total == BASE_TOTAL
    assert OperatingSystem.objects.filter(short_id="penguin4").exists()
    assert Vm.objects.get(pk=vm.pk).os_type_id == "penguin4"


def test_it_imports_the_built_ins_when_osinfo_db_is_missing(tmp_path):
    result = operating_systems_import(roots=[tmp_path / "no-osinfo"])
    assert (result.created, result.total, result.from_osinfo) == (4, 4, 0)
    assert set(OperatingSystem.objects.values_list("short_id", flat=True)) == set(osinfo.BUILTIN_IDS)
    assert not OperatingSystem.objects.exclude(source="builtin").exists()


def test_it_seeds_ovirts_instance_types_once():
    assert instance_types_seed() == 5
    figures = [(t.name, t.memory_mb, t.cpu_sockets, t.cpu_cores, t.cpu_threads) for t in InstanceType.objects.all()]
    assert figures == [
        ("Tiny", 512, 1, 1, 1),
        ("Small", 2048, 1, 1, 1),
        ("Medium", 4096, 2, 1, 1),
        ("Large", 8192, 2, 1, 1),
        ("XLarge", 16384, 4, 1, 1),
    ]
    assert all(t.description for t in InstanceType.objects.all())
    assert instance_types_seed() == 0
    assert InstanceType.objects.count() == 5


def test_it_keeps_an_admins_edits_to_an_instance_type():
    instance_types_seed()
    InstanceType.objects.filter(name="Small").update(memory_mb=3072, description="Ours")
    InstanceType.objects.filter(name="Tiny").delete()
    assert instance_types_seed() == 1  # Tiny again; Small untouched
    small = InstanceType.objects.get(name="Small")
    assert (small.memory_mb, small.description) == (3072, "Ours")


def test_it_gives_the_policy_an_os_profile():
    operating_systems_import(roots=[BASE])
    profile = os_profile_of(OperatingSystem.objects.get(short_id="windozesrv"))
    assert profile.short_id == "windozesrv" and profile.family == "windows"
    assert (profile.virtio, profile.disk_bus, profile.nic_model, profile.video_model) == (False, "sata", "e1000", "qxl")
    assert (profile.clock_offset, profile.hyperv, profile.guest_agent) == ("localtime", True, False)


def test_the_command_says_what_it_imported():
    out = io.StringIO()
    call_command("import_osinfo", "--path", str(BASE), stdout=out)
    assert out.getvalue().strip() == (
        f"OS catalogue: {BASE_TOTAL} operating systems (8 from osinfo-db, 4 built in), "
        f"{BASE_TOTAL} new, 0 updated, 0.0 s; instance types: 5 seeded"
    )
    out = io.StringIO()
    call_command("import_osinfo", "--path", str(BASE), stdout=out)
    assert re.fullmatch(
        rf"OS catalogue: {BASE_TOTAL} operating systems \(8 from osinfo-db, 4 built in\), no changes, "
        r"\d+\.\d s; instance types: 0 seeded",
        out.getvalue().strip(),
    )


def test_the_command_says_when_osinfo_db_is_missing(tmp_path):
    out = io.StringIO()
    call_command("import_osinfo", "--path", str(tmp_path), stdout=out)
    first, second = out.getvalue().strip().splitlines()
    assert first == f"No osinfo-db OS found in {tmp_path}: importing the built-in ones only."
    assert second.startswith("OS catalogue: 4 operating systems (0 from osinfo-db, 4 built in), 4 new")


def test_it_imports_the_real_osinfo_db_quickly_and_idempotently():
    first = operating_systems_import(roots=[osinfo.DEFAULT_ROOT])
    assert first.from_osinfo >= 790 and first.created == first.total
    assert first.seconds < 5
    second = operating_systems_import(roots=[osinfo.DEFAULT_ROOT])
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.total)
    assert second.seconds < 5
    debian11 = OperatingSystem.objects.get(short_id="debian11")
    assert (debian11.name, debian11.disk_bus, debian11.nic_model, debian11.video_model) == ("Debian 11", "virtio", "virtio", "virtio")
