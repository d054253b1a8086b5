"""NFS storage domains: the server and export in the API and the UI (checked
the same way by both), and the attach job realising them as libvirt netfs pools
on simulated hosts (the test driver defines and "starts" a netfs pool without
mounting anything; the real mount is tried in test_storage_nfs_real.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

import hypervisor
from core.errors import Conflict, InvalidInput
from core.models import Event, JobStatus
from hypervisor.storage import PoolSpec, parse_pool_xml
from inventory.choices import HostStatus, StorageDomainStatus, StorageType
from inventory.models import StorageDomain
from inventory.services.spm import spm_review
from inventory.services.storage import (
    storage_domain_attach,
    storage_domain_detach,
    storage_domain_update,
    storage_domains_connect_host,
    storage_pool_name,
)
from tests.inventory.factories import DataCenterFactory, HostFactory, StorageDomainFactory, simulated_host_uri
from tests.support.jobs import run_job

pytestmark = pytest.mark.django_db


NFS = {"storage_type": "nfs", "nfs_server": "nfs1.example.org", "nfs_export": "/exports/data"}


@pytest.fixture(autouse=True)
def fresh_simulated_hosts():
    hypervisor.close_all()
    yield
    hypervisor.close_all()


@pytest.fixture
def spm():
    host = HostFactory(name="spm-host", uri=simulated_host_uri("two-socket-ht.xml"), status=HostStatus.UP)
    assert spm_review(data_center=host.cluster.data_center) == host
    return host


def post(api, **fields):
    body = {"name": "nfs-data", "data_center": DataCenterFactory().pk, "path": "/mnt/nfs-data", **fields}
    return api.post("/api/v1/storagedomains/", body, format="json")


class TestApi:
    def test_it_creates_an_nfs_domain_with_its_server_and_export(self, api):
        response = post(api, **{**NFS, "nfs_export": "/exports//data/"})
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["storage_type"], body["nfs_server"], body["nfs_export"], body["path"]) == (
            "nfs", "nfs1.example.org", "/exports/data", "/mnt/nfs-data")
        assert Event.objects.filter(code="storagedomain.created").exists()

    @pytest.mark.parametrize("fields, field, words", [
        ({"storage_type": "nfs"}, "nfs_server", "needs the NFS server"),
        ({"storage_type": "nfs", "nfs_server": "nfs1"}, "nfs_export", "needs the exported directory"),
        ({**NFS, "nfs_server": "nfs server; rm -rf"}, "nfs_server", "neither a host name"),
        ({**NFS, "nfs_export": "exports/data"}, "nfs_export", "absolute path on the server"),
        ({**NFS, "nfs_export": "/exports/../etc"}, "nfs_export", "without '..'"),
        ({"storage_type": "dir", "nfs_server": "nfs1"}, "nfs_server", "Only an NFS storage domain"),
    ])
    def test_it_refuses_a_bad_nfs_source_with_a_field_message_and_saves_nothing(self, api, fields, field, words):
        response = post(api, **fields)
        assert response.status_code == 400, response.content
        assert words in " ".join(response.json()[field])
        assert not StorageDomain.objects.exists()

    def test_a_partial_update_is_judged_with_what_the_domain_has(self, api):
        domain_id = post(api, **NFS).json()["id"]
        response = api.patch(f"/api/v1/storagedomains/{domain_id}/", {"nfs_server": "10.0.0.7"}, format="json")
        assert response.status_code == 200 and response.json()["nfs_server"] == "10.0.0.7"
        response = api.patch(f"/api/v1/storagedomains/{domain_id}/", {"nfs_export": ""}, format="json")
        assert response.status_code == 400 and "needs the exported directory" in response.json()["nfs_export"][0]
        response = api.patch(f"/api/v1/storagedomains/{domain_id}/", {"storage_type": "dir"}, format="json")
        assert response.status_code == 400 and "Only an NFS storage domain" in response.json()["nfs_server"][0]

    def test_an_attached_domains_export_cannot_change(self, api):
        domain_id = post(api, **NFS).json()["id"]
        StorageDomain.objects.filter(pk=domain_id).update(status=StorageDomainStatus.ACTIVE)
        response = api.patch(f"/api/v1/storagedomains/{domain_id}/", {"nfs_export": "/exports/other"},
                             format="json")
        assert response.status_code == 409
        assert "detach it before changing its NFS export" in response.json()["detail"]
        assert StorageDomain.objects.get(pk=domain_id).nfs_export == "/exports/data"


class TestAttach:
    def test_it_creates_a_netfs_pool_on_every_up_host(self, spm, admin, tmp_path):
        other = HostFactory(cluster=spm.cluster, uri=simulated_host_uri("small.xml"), status=HostStatus.UP)
        domain = StorageDomainFactory(data_center=spm.cluster.data_center, path="/mnt/nfs-data", **NFS)

        job = storage_domain_attach(domain=domain, user=admin)
        job = run_job(job)
        domain.refresh_from_db()

        assert job.status == JobStatus.SUCCEEDED, job.error
        assert domain.status == StorageDomainStatus.ACTIVE and domain.capacity_bytes
        name = storage_pool_name(domain)
        for host in (spm, other):
            xml = hypervisor.get_connection(host.uri).storagePoolLookupByName(name).XMLDesc(0)
            assert parse_pool_xml(xml) == PoolSpec(name=name, path="/mnt/nfs-data", type="netfs",
                                                   source_host="nfs1.example.org", source_dir="/exports/data")

        node = tmp_path / "late.xml"  # a host of its own, with no pools yet
        node.write_text(Path(simulated_host_uri("small.xml").removeprefix("test://")).read_text())
        late = HostFactory(cluster=spm.cluster, uri=f"test://{node}", status=HostStatus.UP)
        assert storage_domains_connect_host(host=late) == 1
        assert parse_pool_xml(hypervisor.get_connection(late.uri).storagePoolLookupByName(name).XMLDesc(0)).type \
            == "netfs"

        job = storage_domain_detach(domain=domain, user=admin)
        job = run_job(job)
        domain.refresh_from_db()
        assert domain.status == StorageDomainStatus.UNATTACHED
        assert ("the files in the NFS export nfs1.example.org:/exports/data (mounted at /mnt/nfs-data) are kept"
                in Event.objects.get(code="storagedomain.unattached").message)

    def test_a_domain_without_its_source_is_refused_before_locking(self, spm, admin):
        domain = StorageDomainFactory(data_center=spm.cluster.data_center, storage_type=StorageType.NFS)
        with pytest.raises(InvalidInput) as caught:
            storage_domain_attach(domain=domain, user=admin)
        assert "is of type NFS but names no NFS server and export" in caught.value.detail
        assert StorageDomain.objects.get(pk=domain.pk).status == StorageDomainStatus.UNATTACHED

    def test_the_service_keeps_the_export_while_attached(self, spm, admin):
        domain = StorageDomainFactory(data_center=spm.cluster.data_center, status=StorageDomainStatus.ACTIVE, **NFS)
        with pytest.raises(Conflict, match="detach it before changing its NFS server"):
            storage_domain_update(domain=domain, fields={"nfs_server": "nfs2"}, user=admin)


class TestPages:
    @pytest.fixture
    def logged_in(self, client, admin):
        client.force_login(admin)
        return client

    def test_the_form_creates_an_nfs_domain_and_the_page_shows_its_export(self, logged_in):
        dc = DataCenterFactory()
        page = logged_in.get(reverse("inventory:object-create", args=["storage"])).content.decode()
        assert "NFS server" in page and "NFS only: the exported directory on the server" in page
        response = logged_in.post(reverse("inventory:object-create", args=["storage"]), {
            "name": "nfs-data", "data_center": dc.pk, "domain_type": "data", "path": "/mnt/nfs-data", **NFS})
        domain = StorageDomain.objects.get(name="nfs-data")
        assert response.status_code == 302
        page = logged_in.get(reverse("inventory:storagedomain-detail", args=[domain.pk])).content.decode()
        assert "nfs1.example.org:/exports/data" in page and "Mounted at" in page
        listing = logged_in.get(reverse("inventory:storagedomain-list"), {"q": "nfs1.example"}).content.decode()
        assert "nfs1.example.org:/exports/data" in listing

    def test_the_form_gives_field_errors_and_saves_nothing(self, logged_in):
        response = logged_in.post(reverse("inventory:object-create", args=["storage"]), {
            "name": "nfs-data", "data_center": DataCenterFactory().pk, "domain_type": "data",
            "path": "/mnt/x", "storage_type": "nfs", "nfs_server": "", "nfs_export": "relative"})
        page = response.content.decode()
        assert response.status_code == 200
        assert 'data-field-error="nfs_server"' in page and 'data-field-error="nfs_export"' in page
        assert not StorageDomain.objects.exists()
