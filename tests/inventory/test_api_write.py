"""Creating, editing and removing inventory objects through the API: bad
input gets 400 with field messages and saves nothing; state conflicts 409."""

import pytest
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from core.models import Event, Job, Permission, Role
from inventory.choices import HostStatus
from inventory.models import Cluster, DataCenter, Host, StorageDomain
from inventory.services import spm_review
from tests.inventory.factories import (
    ClusterFactory,
    DataCenterFactory,
    HostFactory,
    StorageDomainFactory,
    simulated_host_uri,
)
from tests.support.jobs import run_job

pytestmark = pytest.mark.django_db


def assert_refused(response, field: str, words: str, model, count: int) -> None:
    assert response.status_code == 400, response.content
    messages = " ".join(response.json()[field])
    assert words in messages, messages
    assert model.objects.count() == count, "nothing was saved"


class TestDataCenters:
    def test_it_creates_one_and_records_who_did(self, api, admin):
        response = api.post("/api/v1/datacenters/", {"name": "east", "classification": "customer"}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["name"] == "east" and body["classification"] == "customer"
        assert body["status"] == "uninitialized"
        event = Event.objects.get(code="datacenter.created")
        assert event.user == admin and "east" in event.message

    def test_it_refuses_a_duplicate_name(self, api):
        DataCenterFactory(name="east")
        response = api.post("/api/v1/datacenters/", {"name": "east"}, format="json")
        assert_refused(response, "name", "already exists", DataCenter, 1)

    def test_it_refuses_an_unknown_classification(self, api):
        response = api.post("/api/v1/datacenters/", {"name": "x", "classification": "galaxy"}, format="json")
        assert_refused(response, "classification", "not a valid choice", DataCenter, 0)

    def test_it_records_which_fields_changed(self, api):
        dc = DataCenterFactory(name="east")
        response = api.patch(f"/api/v1/datacenters/{dc.pk}/", {"description": "racks 1-4"}, format="json")
        assert response.status_code == 200
        assert "description" in Event.objects.get(code="datacenter.updated").message

    def test_it_refuses_to_remove_one_that_still_has_clusters(self, api):
        dc = ClusterFactory().data_center
        response = api.delete(f"/api/v1/datacenters/{dc.pk}/")
        assert response.status_code == 409
        assert response.json() == {"detail": f"Data center {dc.name} still has clusters; remove them first.",
                                    "code": "conflict"}
        assert DataCenter.objects.filter(pk=dc.pk).exists()


class TestClusters:
    def post(self, api, **fields):
        body = {"name": "web", "data_center": DataCenterFactory().pk, **fields}
        return api.post("/api/v1/clusters/", body, format="json")

    def test_it_fills_the_policy_defaults(self, api):
        response = self.post(api, scheduling_policy="vm_evenly_distributed")
        assert response.status_code == 201
        assert response.json()["scheduling_parameters"] == {"HighVmCount": 10, "MigrationThreshold": 5, "SpmVmGrace": 5}

    def test_it_refuses_a_missing_data_center(self, api):
        response = api.post("/api/v1/clusters/", {"name": "web", "data_center": 999999}, format="json")
        assert_refused(response, "data_center", "does not exist", Cluster, 0)

    @pytest.mark.parametrize("percent", [99, 401])
    def test_it_refuses_overcommit_out_of_range(self, api, percent):
        response = self.post(api, memory_overcommit_percent=percent)
        assert_refused(response, "memory_overcommit_percent", "100" if percent < 100 else "400", Cluster, 0)

    def test_it_refuses_reserved_headroom_above_90_percent(self, api):
        assert_refused(self.post(api, reserved_headroom_percent=95), "reserved_headroom_percent", "90", Cluster, 0)

    @pytest.mark.parametrize("parameters, words", [
        ({"HighUtilization": 120}, "HighUtilization must be a whole number from 50 to 100"),
        ({"HighVmCount": 3}, "Unknown for policy evenly_distributed: HighVmCount"),
        ({"HighUtilization": "80"}, "not '80'"),
        ({"LowUtilization": 50}, "LowUtilization must be a whole number from 0 to 49"),
    ])
    def test_it_refuses_bad_scheduling_parameters(self, api, parameters, words):
        policy = "power_saving" if "LowUtilization" in parameters else "evenly_distributed"
        response = self.post(api, scheduling_policy=policy, scheduling_parameters=parameters)
        assert_refused(response, "scheduling_parameters", words, Cluster, 0)

class TestHosts:
    def post(self, api, **fields):
        body = {"name": "node1", "cluster": ClusterFactory().pk, "uri": simulated_host_uri(), **fields}
        return api.post("/api/v1/hosts/", body, format="json")

    def test_it_adds_a_host_as_a_job_that_brings_it_up_with_its_facts(self, api, admin):
        response = self.post(api)
        assert response.status_code == 202
        body = response.json()
        assert body["host"]["status"] == "installing"
        assert body["job"]["kind"] == "host.add" and body["job"]["status"] == "pending"

        run_job(Job.objects.get(pk=body["job"]["id"]))

        host = Host.objects.get(pk=body["host"]["id"])
        assert host.status == HostStatus.UP and host.cpu_total == 16
        assert Job.objects.get(pk=body["job"]["id"]).status == "succeeded"
        assert Event.objects.filter(code="host.added", user=admin).exists()

    def test_it_marks_an_unreachable_new_host_non_responsive_and_says_why(self, api):
        body = self.post(api, uri="qemu+tcp://127.0.0.1:1/system").json()
        run_job(Job.objects.get(pk=body["job"]["id"]))
        host = Host.objects.get(pk=body["host"]["id"])
        assert host.status == HostStatus.NON_RESPONSIVE and host.status_reason
        assert Job.objects.get(pk=body["job"]["id"]).error

    @pytest.mark.parametrize("uri, words", [
        ("qemu+ext:///system", "local program"),
        ("qemu+ssh://root@h/system?command=/bin/rm", "command"),
        ("xen:///system", "xen"),
        ("not a uri", ""),
    ])
    def test_it_refuses_an_invalid_or_dangerous_uri(self, api, uri, words):
        response = self.post(api, uri=uri)
        assert_refused(response, "uri", words, Host, 0)

    @pytest.mark.parametrize("priority", [-2, 11])
    def test_it_refuses_an_spm_priority_out_of_range(self, api, priority):
        assert_refused(self.post(api, spm_priority=priority), "spm_priority", "", Host, 0)

    def test_it_refuses_a_uri_that_another_host_has(self, api):
        HostFactory(uri=simulated_host_uri())
        assert_refused(self.post(api), "uri", "already exists", Host, 1)

    def test_it_refuses_to_move_a_host_that_is_up(self, api):
        host = HostFactory(status=HostStatus.UP)
        response = api.patch(f"/api/v1/hosts/{host.pk}/", {"cluster": ClusterFactory().pk}, format="json")
        assert response.status_code == 409
        assert "only in maintenance" in response.json()["detail"]

    def test_it_renames_a_host_and_records_it(self, api):
        host = HostFactory(status=HostStatus.UP)
        assert api.patch(f"/api/v1/hosts/{host.pk}/", {"name": "renamed"}, format="json").status_code == 200
        assert Host.objects.get(pk=host.pk).name == "renamed"
        assert Event.objects.filter(code="host.updated").exists()

    def test_it_removes_a_host_only_in_maintenance(self, api):
        host = HostFactory(status=HostStatus.UP)
        assert api.delete(f"/api/v1/hosts/{host.pk}/").status_code == 409
        Host.objects.filter(pk=host.pk).update(status=HostStatus.MAINTENANCE)
        assert api.delete(f"/api/v1/hosts/{host.pk}/").status_code == 204
        assert not Host.objects.filter(pk=host.pk).exists()
        assert Event.objects.filter(code="host.removed").exists()


def test_it_refuses_a_relative_storage_path(api):
    response = api.post("/api/v1/storagedomains/", {"name": "d", "data_center": DataCenterFactory().pk,
                                                    "path": "../etc"}, format="json")
    assert_refused(response, "path", "absolute path", StorageDomain, 0)


class TestPermissions:
    def test_it_forbids_a_user_without_grants_to_create(self, charlie):
        client = APIClient()
        client.force_authenticate(charlie)
        response = client.post("/api/v1/datacenters/", {"name": "east"}, format="json")
        assert response.status_code == 403
        assert not DataCenter.objects.exists()

    def test_it_lets_a_viewer_read_but_not_change(self, bob):
        dc = DataCenterFactory(name="east")
        Permission.objects.create(role=Role.objects.create(name="Viewer", actions=["view"]), user=bob,
                                  object_type=ContentType.objects.get_for_model(dc), object_id=str(dc.pk))
        client = APIClient()
        client.force_authenticate(bob)
        assert client.get(f"/api/v1/datacenters/{dc.pk}/").status_code == 200
        assert client.patch(f"/api/v1/datacenters/{dc.pk}/", {"name": "west"}, format="json").status_code == 403
        assert client.delete(f"/api/v1/datacenters/{dc.pk}/").status_code == 403
        assert DataCenter.objects.get(pk=dc.pk).name == "east"


class TestHostActions:
    def test_it_refreshes_a_host_as_a_job(self, api):
        host = HostFactory(uri=simulated_host_uri("small.xml"), status=HostStatus.UP)
        response = api.post(f"/api/v1/hosts/{host.pk}/refresh/")
        assert response.status_code == 202
        assert response.json()["job"]["kind"] == "host.refresh"

    def test_it_refuses_a_second_refresh_while_one_is_queued(self, api):
        host = HostFactory(status=HostStatus.UP)
        api.post(f"/api/v1/hosts/{host.pk}/refresh/")
        response = api.post(f"/api/v1/hosts/{host.pk}/refresh/")
        assert response.status_code == 409 and "busy with another job" in response.json()["detail"]

    def test_it_activates_a_host_from_maintenance_and_brings_it_up(self, api):
        host = HostFactory(uri=simulated_host_uri("small.xml"), status=HostStatus.MAINTENANCE)
        response = api.post(f"/api/v1/hosts/{host.pk}/activate/")
        assert response.status_code == 202
        assert Host.objects.get(pk=host.pk).status == HostStatus.CONNECTING

        run_job(Job.objects.get(pk=response.json()["job"]["id"]))
        assert Host.objects.get(pk=host.pk).status == HostStatus.UP

    def test_it_refuses_to_activate_a_host_that_is_up_and_names_its_state(self, api):
        host = HostFactory(status=HostStatus.UP)
        response = api.post(f"/api/v1/hosts/{host.pk}/activate/")
        assert response.status_code == 409
        assert response.json()["detail"].startswith(f"Host {host.name} is up;")
        assert not Job.objects.exists()

    def test_it_leaves_an_unreachable_activated_host_non_responsive(self, api):
        host = HostFactory(uri="qemu+tcp://127.0.0.1:1/system", status=HostStatus.MAINTENANCE)
        job_id = api.post(f"/api/v1/hosts/{host.pk}/activate/").json()["job"]["id"]
        run_job(Job.objects.get(pk=job_id))
        assert Host.objects.get(pk=host.pk).status == HostStatus.NON_RESPONSIVE


class TestStorageDomains:
    def test_it_attaches_through_the_spm_as_a_job(self, api):
        host = HostFactory(uri=simulated_host_uri("small.xml"), status=HostStatus.UP)
        spm_review(data_center=host.cluster.data_center)
        domain = StorageDomainFactory(data_center=host.cluster.data_center)
        response = api.post(f"/api/v1/storagedomains/{domain.pk}/attach/")
        assert response.status_code == 202
        assert response.json()["job"]["kind"] == "storagedomain.attach"
        assert StorageDomain.objects.get(pk=domain.pk).status == "locked"

    def test_it_refuses_to_attach_without_an_spm(self, api):
        domain = StorageDomainFactory()
        response = api.post(f"/api/v1/storagedomains/{domain.pk}/attach/")
        assert response.status_code == 409 and "no SPM" in response.json()["detail"]
        assert StorageDomain.objects.get(pk=domain.pk).status == "unattached"

    def test_it_refuses_to_move_or_remove_an_attached_domain(self, api):
        domain = StorageDomainFactory(status="active", path="/srv/a")
        response = api.patch(f"/api/v1/storagedomains/{domain.pk}/", {"path": "/srv/b"}, format="json")
        assert response.status_code == 409 and "detach it before changing its path" in response.json()["detail"]
        assert api.delete(f"/api/v1/storagedomains/{domain.pk}/").status_code == 409
        assert StorageDomain.objects.get(pk=domain.pk).path == "/srv/a"

    def test_it_renames_an_attached_domain(self, api):
        domain = StorageDomainFactory(status="active")
        assert api.patch(f"/api/v1/storagedomains/{domain.pk}/", {"name": "renamed"}, format="json").status_code == 200
