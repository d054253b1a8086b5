"""The new-VM wizard: five steps posted one after the other, each carrying the
answers before it; refusals under the right field of the right step, and
nothing created until Create passes every check."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from core.models import Job
from inventory.choices import ImageContent, ImageStatus
from inventory.models import Image
from tests.inventory.factories import ClusterFactory, HostFactory
from tests.vms.test_views import (  # noqa: F401 (fixtures)
    GIB,
    catalogue,
    cluster,
    domain,
    fresh_simulated_hosts,
    grant,
    host,
    make_vm,
    network,
)
from vms.choices import VmStatus
from vms.models import InstanceType, Vm, VmInitialization

pytestmark = pytest.mark.django_db

URL = "/vms/new/"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture
def world(catalogue, cluster, host, domain, network):
    return {"cluster": cluster, "host": host, "domain": domain, "network": network}


PREFIX_STEPS = {"basics": 1, "sizing": 2, "profile": 3, "disks": 4, "nics": 4, "finish": 5, "init": 5}


def answers(world, **changes) -> dict[int, dict]:
    """What a user types on each step, keyed by step; a change of None removes the field."""
    steps = {
        1: {"basics-name": "web1", "basics-description": "", "basics-cluster": world["cluster"].pk,
            "basics-template": "blank", "basics-os_type": "linux-generic"},
        2: {"sizing-instance_type": InstanceType.objects.get(name="Small").pk, "sizing-memory_mb": 2048,
            "sizing-memory_guaranteed_mb": "", "sizing-cpu_sockets": 1, "sizing-cpu_cores": 1, "sizing-cpu_threads": 1},
        3: {"profile-optimization": "server"},
        4: {"disks-TOTAL_FORMS": 1, "disks-INITIAL_FORMS": 1, "disks-0-size_gb": 20, "disks-0-allocation": "thin",
            "disks-0-storage_domain": world["domain"].pk, "disks-0-image": "",
            "nics-TOTAL_FORMS": 1, "nics-INITIAL_FORMS": 1, "nics-0-network": world["network"].pk,
            "nics-0-model": "", "nics-0-mac": ""},
        5: {"finish-console": "vnc", "finish-host": "", "finish-start": "on"},
    }
    for key, value in changes.items():
        fields = steps[PREFIX_STEPS[key.split("-")[0]]]
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return steps


def carried(page: str) -> dict[str, str]:
    """The hidden inputs of a step (the answers carried, the step's number), as the browser sends them back."""
    return {unescape(name): unescape(value) for name, value in HIDDEN.findall(page)}


def resend(page: str) -> dict[str, str]:
    """Everything a step sends back untouched: its hidden inputs, and its own
    fields as rendered (inputs with a value, the selected options)."""
    fields = carried(page)
    fields.update({unescape(n): unescape(v) for n, v in re.findall(
        r'<input type="(?:number|text|search)" name="([^"]+)" value="([^"]*)"', page)})
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        if chosen:
            fields[name] = unescape(chosen.group(1))
    return fields


def post(client, data: dict, action: str = "next", **extra):
    return client.post(URL, {**data, "wizard-action": action}, **extra)


def reach(client, steps: dict[int, dict], number: int):
    """Answer steps 1 .. number-1 as a browser does (type the step's fields, send
    them with what the page carried, press Next); returns step ``number``'s response."""
    response = client.get(URL)
    for current in range(1, number):
        page = response.content.decode()
        assert f'name="wizard-step" value="{current}"' in page, f"expected step {current}"
        response = post(client, {**carried(page), **{k: str(v) for k, v in steps[current].items()}})
    assert step_shown(response) == number, f"stopped on step {step_shown(response)}"
    return response


def walk(client, steps: dict[int, dict], upto: int = 5) -> dict:
    """The data step ``upto`` would send: what it carries plus the step's own answers."""
    page = reach(client, steps, upto).content.decode()
    return {**carried(page), **{k: str(v) for k, v in steps[upto].items()}}


def step_shown(response) -> int:
    return int(re.search(r'name="wizard-step" value="(\d)"', response.content.decode()).group(1))


def field_errors(response, field: str) -> list[str]:
    return [unescape(m) for m in re.findall(rf'data-field-error="{field}">([^<]*)<', response.content.decode())]


# ---- walking it -------------------------------------------------------------

def test_step_one_offers_the_clusters_and_the_oses_grouped_by_family(logged_in, world):
    page = logged_in.get(URL).content.decode()
    assert 'name="wizard-step" value="1"' in page
    assert '<optgroup label="Linux">' in page and '<optgroup label="Windows">' in page
    assert '<option value="linux-generic" selected>Generic Linux</option>' in page
    assert f'<option value="{world["cluster"].pk}" selected>prod' in page
    assert '<option value="blank" selected>Blank</option>' in page
    assert reverse("vms:wizard-os-options") in page


def test_it_walks_every_step_and_creates_the_vm_with_its_job(logged_in, world):
    data = walk(logged_in, answers(world))
    response = post(logged_in, data, "create")
    vm = Vm.objects.get(name="web1")
    assert response.status_code == 302 and response.url == reverse("vms:vm-detail", args=[vm.pk])
    job = Job.objects.get(kind="vm.create")
    assert job.target_id == str(vm.pk)
    assert (vm.status, vm.host, vm.instance_type.name, vm.memory_mb, vm.console) == (
        VmStatus.IMAGE_LOCKED, world["host"], "Small", 2048, "vnc")
    assert vm.memory_guaranteed_mb == 1366, "2048 MiB over the cluster's 150 % overcommit"
    disk = vm.disks.get()
    assert (disk.size_gb, disk.format, disk.allocation, disk.bootable) == (20, "qcow2", "thin", True)
    assert vm.nics.get().mac.startswith("56:6f:")
    assert [step["name"] for step in job.steps] == ["Create disk 1", "Define on node1", "Start on node1"]
    page = logged_in.get(response.url).content.decode()
    assert f'data-job-id="{job.pk}"' in page and "is being created on node1" in page


def test_each_step_shows_what_it_needs(logged_in, world):
    steps = answers(world)
    page = reach(logged_in, steps, 2).content.decode()
    assert "Generic Linux needs at least 512 MiB" in page and "node1" in page and "32.0 GiB" in page
    assert 'data-memory-mb="2048"' in page, "the presets carry their figures for the script"
    assert "<strong data-vcpu-number>2</strong>" in page, "the smallest preset giving the OS's 2 recommended vCPUs"
    page = post(logged_in, {**carried(page), **{k: str(v) for k, v in steps[2].items()}}).content.decode()
    for sentence in ("Adds a sound card (Intel HD Audio).", "Runs headless: no graphical console"):
        assert sentence in page, "step 3 explains each profile's effects"
    page = post(logged_in, {**carried(page), **steps[3]}).content.decode()
    assert "data1 (90.0 GiB free of 100.0 GiB)" in page
    assert 'placeholder="automatic from the pool"' in page
    assert 'value="20"' in page, "the OS's recommended disk size"


def test_step_five_shows_where_the_vm_would_go_and_the_memory_it_commits(logged_in, world):
    make_vm(world["cluster"], "busy", status=VmStatus.UP, host=world["host"], memory_mb=8192)
    page = reach(logged_in, answers(world), 5).content.decode()
    assert 'data-placement-host="node1"' in page and "Chosen" in page
    assert "Committed now 8.0 GiB" in page and "This VM 2.0 GiB" in page
    assert "Allowed 48.0 GiB" in page, "32 GiB of up hosts x 150 % overcommit"
    assert "After this VM: 10.0 GiB of 48.0 GiB allowed (21 %)" in page
    assert "automatic from the pool" in page and "56:6f:" in page
    assert not Vm.objects.filter(name="web1").exists(), "the summary creates nothing"


def test_the_summary_follows_a_change_of_pinned_host(logged_in, world):
    other = HostFactory(name="node0", cluster=world["cluster"], status="maintenance", memory_mb=4096, cpu_total=4)
    data = walk(logged_in, answers(world), upto=5)
    response = logged_in.post(reverse("vms:wizard-summary"), {**data, "finish-host": other.pk})
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith("<section") or 'id="wizard-summary"' in page
    assert "No host can take this VM now." in page and "Refused by pinned" in page
    assert "host is in maintenance" in page


def test_back_keeps_the_answers_of_every_step(logged_in, world):
    data = walk(logged_in, answers(world, **{"sizing-memory_mb": 3000, "sizing-instance_type": ""}), upto=3)
    page = post(logged_in, {**data, "wizard-step": "3"}, "back").content.decode()
    assert 'name="wizard-step" value="2"' in page and 'value="3000"' in page
    page = post(logged_in, {**resend(page), "wizard-action": "goto:1"}).content.decode()
    assert 'value="web1"' in page and 'name="sizing-memory_mb" value="3000"' in page


def test_a_step_not_reached_cannot_be_jumped_to(logged_in, world):
    page = post(logged_in, {**{k: str(v) for k, v in answers(world)[1].items()}, "wizard-step": "1"},
                "goto:5").content.decode()
    assert 'name="wizard-step" value="2"' in page, "forward one step at a time"


# ---- refusals, under the right field of the right step ------------------------

def test_memory_below_the_os_minimum_is_refused_on_step_two(logged_in, world):
    steps = answers(world, **{"basics-os_type": "windoze10", "sizing-memory_mb": 1024, "sizing-instance_type": ""})
    response = post(logged_in, walk(logged_in, steps, upto=2))
    assert step_shown(response) == 2
    assert field_errors(response, "memory_mb") == ["Windoze 10 needs at least 2048 MiB; 1024 MiB was given."]
    assert not Vm.objects.exists()


def test_more_vcpus_than_the_largest_host_is_refused_under_the_topology(logged_in, world):
    steps = answers(world, **{"sizing-cpu_sockets": 4, "sizing-cpu_cores": 4, "sizing-cpu_threads": 2,
                              "sizing-instance_type": ""})
    response = post(logged_in, walk(logged_in, steps, upto=2))
    assert step_shown(response) == 2
    assert field_errors(response, "cpu_sockets") == [
        "4 x 4 x 2 = 32 vCPUs is more than the largest host of cluster prod has (8 cores)."]
    assert not Vm.objects.exists()


def test_a_duplicate_name_is_refused_on_step_one(logged_in, world):
    make_vm(world["cluster"], "web1")
    response = post(logged_in, walk(logged_in, answers(world), upto=1))
    assert step_shown(response) == 1
    assert field_errors(response, "name") == [
        f"Data center {world['cluster'].data_center.name} already has a VM named web1."]
    assert Vm.objects.count() == 1


def test_create_sends_the_user_back_to_the_step_that_became_wrong(logged_in, world):
    data = walk(logged_in, answers(world))
    make_vm(world["cluster"], "web1")  # meanwhile, someone took the name
    response = post(logged_in, data, "create")
    assert step_shown(response) == 1 and field_errors(response, "name")
    assert Vm.objects.count() == 1 and not Job.objects.exists()


def test_a_preallocated_disk_that_does_not_fit_is_refused_on_step_four(logged_in, world):
    steps = answers(world, **{"disks-0-allocation": "preallocated", "disks-0-size_gb": 500})
    response = post(logged_in, walk(logged_in, steps, upto=4))
    assert step_shown(response) == 4
    assert field_errors(response, "disks") == [
        "Disk 1: 500 GiB preallocated does not fit on storage domain data1 (90.0 GiB free)."]


def test_a_bad_mac_is_refused_on_step_four(logged_in, world):
    response = post(logged_in, walk(logged_in, answers(world, **{"nics-0-mac": "01:00:5e:00:00:01"}), upto=4))
    assert step_shown(response) == 4
    assert "multicast" in field_errors(response, "nics")[0]


def test_a_disk_needs_a_size_or_an_image(logged_in, world):
    response = post(logged_in, walk(logged_in, answers(world, **{"disks-0-size_gb": ""}), upto=4))
    assert step_shown(response) == 4
    assert field_errors(response, "size_gb") == ["Give a size, or choose an image to copy."]


def test_a_high_performance_vm_is_headless(logged_in, world):
    steps = answers(world, **{"profile-optimization": "high_performance"})
    page = reach(logged_in, steps, 5).content.decode()
    data = walk(logged_in, steps, upto=5)
    assert re.search(r'value="none" id="[^"]+" checked', page), "the console is none"
    assert re.search(r'value="vnc" id="[^"]+" disabled', page)
    response = post(logged_in, {**data, "finish-console": "vnc"}, "create")
    assert step_shown(response) == 5
    assert field_errors(response, "console")[0].startswith("High performance VMs are headless")
    assert not Vm.objects.exists()


def test_create_when_no_host_fits_says_why_on_the_last_step(logged_in, world):
    data = walk(logged_in, answers(world))
    Vm.objects.create(name="hog", cluster=world["cluster"], data_center=world["cluster"].data_center,
                      os_type_id="linux-generic", memory_mb=49152, memory_guaranteed_mb=0, status=VmStatus.UP,
                      host=world["host"])
    response = post(logged_in, data, "create")
    page = response.content.decode()
    assert step_shown(response) == 5 and "No host can run VM web1" in page
    assert not Vm.objects.filter(name="web1").exists()


# ---- rows of step 4 -------------------------------------------------------------

def test_disks_and_nics_are_added_and_removed_without_losing_the_others(logged_in, world):
    data = walk(logged_in, answers(world, **{"disks-0-size_gb": 33}), upto=4)
    page = post(logged_in, {**data, "wizard-step": "4"}, "add:disks").content.decode()
    assert 'name="disks-TOTAL_FORMS" value="2"' in page and "Disk 2" in page
    assert 'name="disks-0-size_gb" value="33"' in page and 'name="disks-1-size_gb" value="10"' in page
    assert "data-field-error" not in page, "a row just added shows no errors"
    page = post(logged_in, resend(page), "remove:disks:0").content.decode()
    assert 'name="disks-TOTAL_FORMS" value="1"' in page and 'name="disks-0-size_gb" value="10"' in page
    page = post(logged_in, resend(page), "remove:nics:0").content.decode()
    assert 'name="nics-TOTAL_FORMS" value="0"' in page and "No network interface." in page
    page = post(logged_in, resend(page)).content.decode()
    assert 'name="wizard-step" value="5"' in page


def test_a_disk_copied_from_an_image_takes_its_size(logged_in, world):
    image = Image.objects.create(name="tiny.qcow2", storage_domain=world["domain"], content=ImageContent.DISK,
                                 format="qcow2", status=ImageStatus.OK, virtual_size_bytes=3 * GIB // 2,
                                 path="/srv/images/tiny.qcow2")
    data = walk(logged_in, answers(world, **{"disks-0-size_gb": "", "disks-0-image": image.pk}))
    post(logged_in, data, "create")
    disk = Vm.objects.get(name="web1").disks.get()
    assert (disk.image, disk.size_gb) == (image, 2)


# ---- htmx, search, permissions --------------------------------------------------

def test_with_htmx_create_answers_with_a_client_redirect(logged_in, world):
    data = walk(logged_in, answers(world))
    response = post(logged_in, data, "create", HTTP_HX_REQUEST="true")
    vm = Vm.objects.get(name="web1")
    assert response["HX-Redirect"] == reverse("vms:vm-detail", args=[vm.pk])


def test_the_os_search_narrows_the_select(logged_in, world):
    response = logged_in.get(reverse("vms:wizard-os-options"), {"os_search": "windoze 10", "basics-os_type": "other"})
    page = response.content.decode()
    assert '<option value="windoze10" selected>' in page and "penguin" not in page
    page = logged_in.get(reverse("vms:wizard-os-options"), {"os_search": "zzz"}).content.decode()
    assert "No operating system matches" in page


def test_charlie_may_not_create_a_vm(client, world, charlie):
    client.force_login(charlie)
    page = client.get(URL).content.decode()
    assert "You may not create VMs" in page and "wizard-step" not in page
    response = post(client, {k: str(v) for k, v in answers(world)[1].items()})
    assert "You may not create VMs" in response.content.decode()
    data = {k: str(v) for step in answers(world).values() for k, v in step.items()}
    post(client, data, "create")
    assert not Vm.objects.exists()


def test_a_user_granted_create_on_one_cluster_sees_only_that_one(client, world, bob):
    other = ClusterFactory(name="lab")
    grant(bob, ["view", "create"], world["cluster"])
    client.force_login(bob)
    page = client.get(URL).content.decode()
    assert f'<option value="{world["cluster"].pk}" selected>prod' in page and ">lab (" not in page
    data = walk(client, answers(world))
    response = post(client, {**data, "basics-cluster": other.pk}, "create")
    assert step_shown(response) == 1 and field_errors(response, "cluster")
    post(client, data, "create")
    assert Vm.objects.get(name="web1").owner == bob


# ---- First boot (step 5's section) ----

def first_boot_answers(world, image, **init):
    steps = answers(world, **{"disks-0-size_gb": "", "disks-0-image": image.pk})
    steps[5].update({f"init-{name}": value for name, value in init.items()})
    return steps


@pytest.fixture
def cloud_image(world):
    return Image.objects.create(name="cloud.qcow2", storage_domain=world["domain"], content=ImageContent.DISK,
                                format="qcow2", status=ImageStatus.OK, virtual_size_bytes=GIB,
                                path="/srv/images/cloud.qcow2")


def test_step_5_asks_for_the_first_boot_and_create_keeps_it(logged_in, world, cloud_image):
    page = reach(logged_in, first_boot_answers(world, cloud_image), 5).content.decode()
    assert "First boot" in page and 'name="init-hostname"' in page and 'list="timezones"' in page
    steps = first_boot_answers(world, cloud_image, personalise="on", hostname="web-7", user_name="alice",
                               password="s3cret-pass", timezone="Europe/Paris")
    response = post(logged_in, walk(logged_in, steps), "create")
    assert response.status_code == 302, response.content.decode()[:2000]
    initialization = Vm.objects.get(name="web1").initialization
    assert (initialization.hostname, initialization.user_name, initialization.timezone) == (
        "web-7", "alice", "Europe/Paris")
    assert initialization.password_secret and "s3cret-pass" not in initialization.password_secret


def test_first_boot_answers_are_ignored_unless_personalise_is_ticked(logged_in, world, cloud_image):
    steps = first_boot_answers(world, cloud_image, hostname="web_7 not checked")
    post(logged_in, walk(logged_in, steps), "create")
    assert Vm.objects.filter(name="web1").exists() and not VmInitialization.objects.exists()


def test_bad_first_boot_answers_are_shown_in_the_section_and_nothing_is_created(logged_in, world, cloud_image):
    steps = first_boot_answers(world, cloud_image, personalise="on", hostname="web_7", timezone="Mars/Base")
    page = post(logged_in, walk(logged_in, steps), "create").content.decode()
    assert step_shown_page(page) == 5
    section = page[page.index('data-section="first-boot"'):]
    assert "not a valid hostname" in section and "Time zone &#x27;Mars/Base&#x27; is unknown" in section
    assert 'value="web_7"' in page, "the answers are kept"
    assert not Vm.objects.exists() and not Job.objects.exists()


def step_shown_page(page: str) -> int:
    return int(re.search(r'name="wizard-step" value="(\d)"', page).group(1))
