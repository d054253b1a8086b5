"""A template from an uploaded vdi on storage only a namespaced host can see:
the conversion runs on that host (libvirt's volume copy there), the portal's
process never sees a byte of it, and deleting the template removes its volume
there too."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

import hypervisor
from core.models import JobStatus
from inventory import services
from inventory.choices import StorageDomainType
from inventory.models import Image, StorageDomain
from inventory.services.storage import storage_pool_name
from tests.hypervisor.test_qemu_img import MIB, qemu_img_create
from tests.inventory.factories import ClusterFactory
from tests.inventory.test_images import upload
from tests.multihost.test_private_storage import succeeded, volume_names
from tests.support.jobs import run_job
from vms.models import Template
from vms.services.catalog import operating_systems_import

pytestmark = [pytest.mark.multihost, pytest.mark.django_db, pytest.mark.timeout(300)]


def test_a_vdi_on_private_storage_becomes_a_qcow2_template_on_that_host(testhost, admin, api, tmp_path):
    store = testhost("tplstore")
    cluster = ClusterFactory(name="private-cluster")
    _host, job = services.host_add(name="tplstore", cluster=cluster, uri=store.uri, user=admin)
    assert run_job(job).status == JobStatus.SUCCEEDED
    private = f"/var/lib/libvirt/portal-private-{uuid.uuid4().hex[:8]}"
    domain = StorageDomain.objects.create(name="private", data_center=cluster.data_center, path=private,
                                          domain_type=StorageDomainType.DATA)
    assert run_job(services.storage_domain_attach(domain=domain, user=admin)).status == JobStatus.SUCCEEDED
    assert not os.path.exists(private), "the portal's process must not see the domain's directory"

    base = qemu_img_create(tmp_path / "base.qcow2", "64M", "-f", "qcow2")
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 4M", str(base)], check=True,
                   capture_output=True)  # data the conversion must carry
    vdi = tmp_path / "disk.vdi"
    subprocess.run(["qemu-img", "convert", "-O", "vdi", str(base), str(vdi)], check=True)
    response = upload(api, vdi, domain=domain, name="vbox")
    assert response.status_code == 201 and response.json()["format"] == "vdi", response.content
    image = Image.objects.get(pk=response.json()["id"])

    operating_systems_import(roots=[])
    succeeded(api.post("/api/v1/templates/", {"image": image.pk, "name": "vbox-tpl", "os_type": "linux-generic",
                                              "storage_domain": domain.pk}, format="json"))
    disk = Template.objects.get().disks.get()
    assert Path(disk.path).parent == Path(private) and not os.path.exists(disk.path)
    copy = hypervisor.volume_by_path(store.uri, disk.path)
    assert (copy.format, copy.capacity_bytes) == ("qcow2", 64 * MIB)
    assert copy.allocation_bytes >= 4 * MIB, "the image's data, converted, not an empty disk"
    assert hypervisor.volume_by_path(store.uri, image.path).format == "vdi"  # the image is left as it was

    succeeded(api.delete(f"/api/v1/templates/{disk.template_id}/"))
    assert disk.volume_name not in volume_names(store.uri, storage_pool_name(domain))
    assert api.delete(f"/api/v1/images/{image.pk}/").status_code == 204
