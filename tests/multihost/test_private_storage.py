"""Disk data moves through the hosts, never through the portal's file system: a
storage domain whose directory exists only inside a namespaced host's private
mounts takes an upload, gives a VM a disk copied from it, a template of that VM
and a thin and a clone VM from the template, and loses all of them again,
while the portal's process cannot see the directory at all. What is on the host
is read through libvirt, the only way the portal has to look."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

import hypervisor
from core.models import Job, JobStatus
from inventory import services
from inventory.choices import HostStatus, StorageDomainStatus, StorageDomainType
from inventory.models import Host, Image, StorageDomain
from inventory.services.storage import storage_pool_name
from tests.hypervisor.test_qemu_img import MIB, qemu_img_create
from tests.inventory.factories import ClusterFactory
from tests.inventory.test_images import upload
from tests.support.jobs import run_job
from vms.models import Template, Vm
from vms.services.catalog import operating_systems_import

pytestmark = [pytest.mark.multihost, pytest.mark.django_db, pytest.mark.timeout(300)]


def succeeded(response) -> Job:
    assert response.status_code == 202, response.content
    job = run_job(Job.objects.get(pk=response.json()["job"]["id"]))
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def volume_names(uri: str, pool: str) -> list[str]:
    return [volume.name for volume in hypervisor.list_volumes(uri, pool)]


def test_upload_copy_and_delete_work_on_storage_only_the_host_can_see(testhost, admin, api, tmp_path):
    store = testhost("store")
    cluster = ClusterFactory(name="private-cluster")
    host, job = services.host_add(name="store", cluster=cluster, uri=store.uri, user=admin)
    assert run_job(job).status == JobStatus.SUCCEEDED
    assert Host.objects.get(pk=host.pk).status == HostStatus.UP
    # /var/lib/libvirt inside the host is its own bind mount: this directory
    # exists there only, once libvirt builds the pool.
    private = f"/var/lib/libvirt/portal-private-{uuid.uuid4().hex[:8]}"
    domain = StorageDomain.objects.create(name="private", data_center=cluster.data_center, path=private,
                                          domain_type=StorageDomainType.DATA)
    assert run_job(services.storage_domain_attach(domain=domain, user=admin)).status == JobStatus.SUCCEEDED
    assert StorageDomain.objects.get(pk=domain.pk).status == StorageDomainStatus.ACTIVE
    assert not os.path.exists(private), "the portal's process must not see the domain's directory"
    images_pool, disks_pool = f"{storage_pool_name(domain)}-images", storage_pool_name(domain)

    base = qemu_img_create(tmp_path / "base.qcow2", "64M", "-f", "qcow2")
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 4M", str(base)], check=True,
                   capture_output=True)  # data a copy must carry, where an empty disk would have none
    response = upload(api, base, domain=domain, name="base")

    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["id"])
    assert Path(image.path).parent == Path(private) / "images" and not os.path.exists(image.path)
    assert volume_names(store.uri, images_pool) == [Path(image.path).name]

    operating_systems_import(roots=[])
    created = api.post("/api/v1/vms/", {
        "name": "from-private", "cluster": cluster.pk, "os_type": "linux-generic", "memory_mb": 512,
        "memory_guaranteed_mb": 512, "console": "none", "start": False,
        "disks": [{"image": image.pk, "storage_domain": domain.pk}],
    }, format="json")
    succeeded(created)
    disk = Vm.objects.get(pk=created.json()["vm"]["id"]).disks.get()
    # The images pool's directory shows in the domain's pool as a volume too.
    assert volume_names(store.uri, disks_pool) == sorted(["images", disk.volume_name])
    copy = hypervisor.volume_by_path(store.uri, disk.path)
    assert copy.capacity_bytes == disk.size_gb * 1024**3 and copy.format == disk.format
    assert copy.allocation_bytes >= 4 * MIB, "a copy of the image's data, not an empty disk"
    assert not os.path.exists(disk.path)

    # A template of that VM, and a thin and a clone VM from it, all on the private domain.
    succeeded(api.post("/api/v1/templates/", {"vm": disk.vm_id, "name": "private-golden",
                                              "storage_domain": domain.pk}, format="json"))
    template = Template.objects.get()
    template_disk = template.disks.get()
    assert template_disk.status == "ok" and not os.path.exists(template_disk.path)
    made = {}
    for provisioning in ("thin", "clone"):
        response = api.post("/api/v1/vms/", {"name": f"private-{provisioning}", "cluster": cluster.pk,
                                             "template": template.pk, "provisioning": provisioning,
                                             "start": False}, format="json")
        succeeded(response)
        made[provisioning] = Vm.objects.get(pk=response.json()["vm"]["id"])
        volume = hypervisor.volume_by_path(store.uri, made[provisioning].disks.get().path)
        assert (volume.format, volume.capacity_bytes) == ("qcow2", template_disk.size_gb * 1024**3)
    assert hypervisor.volume_by_path(store.uri, made["clone"].disks.get().path).allocation_bytes >= 4 * MIB
    refused = api.delete(f"/api/v1/templates/{template.pk}/")
    assert refused.status_code == 409 and refused.json()["vms"] == [{"id": made["thin"].pk, "name": "private-thin"}]
    for vm in made.values():
        succeeded(api.delete(f"/api/v1/vms/{vm.pk}/"))
    succeeded(api.delete(f"/api/v1/templates/{template.pk}/"))
    assert not Template.objects.exists()

    succeeded(api.delete(f"/api/v1/vms/{disk.vm_id}/"))
    assert volume_names(store.uri, disks_pool) == ["images"]
    assert api.delete(f"/api/v1/images/{image.pk}/").status_code == 204
    assert volume_names(store.uri, images_pool) == [] and not Image.objects.exists()
