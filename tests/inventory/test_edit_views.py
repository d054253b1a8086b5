"""The UI's create, edit and remove pages, and the host action buttons."""

import pytest
from django.urls import NoReverseMatch, resolve, reverse

from core.models import Event, Job
from inventory.choices import HostStatus
from inventory.models import Cluster, DataCenter, Host
from tests.inventory.factories import (
    ClusterFactory,
    DataCenterFactory,
    HostFactory,
    StorageDomainFactory,
    simulated_host_uri,
)

pytestmark = pytest.mark.django_db


def test_it_creates_a_data_center_from_the_form(logged_in):
    response = logged_in.post(reverse("inventory:object-create", args=["datacenters"]),
                              {"name": "east", "classification": "customer", "storage_type": "shared"})
    dc = DataCenter.objects.get(name="east")
    assert response.status_code == 302 and response.url == reverse("inventory:datacenter-detail", args=[dc.pk])
    assert Event.objects.filter(code="datacenter.created").exists()


def test_it_shows_field_errors_and_keeps_what_was_typed(logged_in):
    DataCenterFactory(name="east")
    response = logged_in.post(reverse("inventory:object-create", args=["datacenters"]),
                              {"name": "east", "description": "my notes", "classification": "service",
                               "storage_type": "shared"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-field-error="name"' in page and "already exists" in page
    assert "my notes" in page
    assert DataCenter.objects.count() == 1


def test_it_refuses_bad_scheduling_parameters_in_the_cluster_form(logged_in):
    dc = DataCenterFactory()
    response = logged_in.post(reverse("inventory:object-create", args=["clusters"]), {
        "name": "web", "data_center": dc.pk, "memory_overcommit_percent": 150,
        "scheduling_policy": "evenly_distributed", "scheduling_parameters": '{"HighUtilization": 120}',
        "migration_policy": "minimal_downtime", "reserved_headroom_percent": 0,
    })
    assert 'data-field-error="scheduling_parameters"' in response.content.decode()
    assert not Cluster.objects.exists()


def test_it_refuses_a_dangerous_uri_in_the_host_form(logged_in):
    response = logged_in.post(reverse("inventory:object-create", args=["hosts"]), {
        "name": "h", "cluster": ClusterFactory().pk, "uri": "qemu+ext:///system", "spm_priority": 5,
    })
    assert 'data-field-error="uri"' in response.content.decode()
    assert not Host.objects.exists()


def test_it_adds_a_host_and_shows_its_job(logged_in):
    response = logged_in.post(reverse("inventory:object-create", args=["hosts"]), {
        "name": "node1", "cluster": ClusterFactory().pk, "uri": simulated_host_uri(), "spm_priority": 5,
    })
    job = Job.objects.get(kind="host.add")
    assert response.url == reverse("core:job-detail", args=[job.pk])
    assert Host.objects.get(name="node1").status == HostStatus.INSTALLING


def test_it_edits_a_cluster_and_records_the_change(logged_in):
    cluster = ClusterFactory(name="web")
    form = {"name": "web2", "data_center": cluster.data_center.pk, "memory_overcommit_percent": 200,
            "scheduling_policy": "none", "migration_policy": "minimal_downtime", "reserved_headroom_percent": 10,
            "shutdown_timeout_seconds": 120}
    response = logged_in.post(reverse("inventory:object-edit", args=["clusters", cluster.pk]), form)
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert (cluster.name, cluster.memory_overcommit_percent, cluster.reserved_headroom_percent) == ("web2", 200, 10)
    assert "memory_overcommit_percent" in Event.objects.get(code="cluster.updated").message


def test_it_explains_why_a_cluster_with_hosts_cannot_be_removed(logged_in):
    cluster = HostFactory().cluster
    response = logged_in.post(reverse("inventory:object-remove", args=["clusters", cluster.pk]), follow=True)
    assert "still has hosts" in response.content.decode()
    assert Cluster.objects.filter(pk=cluster.pk).exists()


def test_it_asks_before_removing_and_removes_on_post(logged_in):
    dc = DataCenterFactory(name="gone")
    confirm = logged_in.get(reverse("inventory:object-remove", args=["datacenters", dc.pk]))
    assert "This cannot be undone" in confirm.content.decode()
    assert DataCenter.objects.filter(pk=dc.pk).exists(), "a GET changes nothing"
    logged_in.post(reverse("inventory:object-remove", args=["datacenters", dc.pk]))
    assert not DataCenter.objects.filter(pk=dc.pk).exists()


def test_it_refreshes_a_host_from_its_page_and_refuses_a_get(logged_in):
    host = HostFactory(status=HostStatus.UP)
    url = reverse("inventory:host-refresh", args=[host.pk])
    assert logged_in.get(url).status_code == 405
    response = logged_in.post(url)
    assert response.url == reverse("core:job-detail", args=[Job.objects.get(kind="host.refresh").pk])


def test_it_shows_activate_only_for_a_host_in_maintenance(logged_in):
    up = HostFactory(status=HostStatus.UP)
    resting = HostFactory(status=HostStatus.MAINTENANCE)
    activate = reverse("inventory:host-activate", args=[resting.pk])
    assert activate in logged_in.get(reverse("inventory:host-detail", args=[resting.pk])).content.decode()
    assert "/activate/" not in logged_in.get(reverse("inventory:host-detail", args=[up.pk])).content.decode()


def test_it_says_why_a_host_that_is_up_cannot_be_activated(logged_in):
    host = HostFactory(status=HostStatus.UP)
    response = logged_in.post(reverse("inventory:host-activate", args=[host.pk]), follow=True)
    assert "only a host in maintenance" in response.content.decode()


def test_it_forbids_a_user_without_grants_to_create(client, charlie):
    client.force_login(charlie)
    client.post(reverse("inventory:object-create", args=["datacenters"]),
                {"name": "east", "classification": "service", "storage_type": "shared"})
    assert not DataCenter.objects.exists()


def test_it_answers_404_for_an_unknown_kind(logged_in):
    assert logged_in.get("/jobs/new/").status_code == 404


def test_it_saves_bmc_settings_from_the_host_form_and_keeps_the_password(logged_in):
    host = HostFactory(status=HostStatus.UP)
    form = {"name": host.name, "cluster": host.cluster.pk, "uri": host.uri, "spm_priority": 5,
            "pm_enabled": "on", "pm_agent": "ipmilan", "pm_address": "127.0.0.1", "pm_port": 9623,
            "pm_username": "admin", "pm_password": "s3cret", "pm_options": "lanplus"}
    assert logged_in.post(reverse("inventory:object-edit", args=["hosts", host.pk]), form).status_code == 302
    stored = Host.objects.get(pk=host.pk).pm_password_encrypted
    assert stored and "s3cret" not in stored

    form.pop("pm_password")
    logged_in.post(reverse("inventory:object-edit", args=["hosts", host.pk]), form)
    assert Host.objects.get(pk=host.pk).pm_password_encrypted == stored
    page = logged_in.get(reverse("inventory:host-detail", args=[host.pk])).content.decode()
    assert "127.0.0.1:9623" in page and "s3cret" not in page
    assert reverse("inventory:host-power-test", args=[host.pk]) in page


def test_it_refuses_bad_bmc_settings_in_the_host_form(logged_in):
    host = HostFactory(status=HostStatus.UP)
    form = {"name": host.name, "cluster": host.cluster.pk, "uri": host.uri, "spm_priority": 5,
            "pm_enabled": "on", "pm_agent": "redfish", "pm_address": "bmc.example", "pm_port": 443}
    page = logged_in.post(reverse("inventory:object-edit", args=["hosts", host.pk]), form).content.decode()
    assert "not supported yet" in page
    assert Host.objects.get(pk=host.pk).pm_address == ""


def test_it_offers_attach_for_an_unattached_domain_and_explains_a_refusal(logged_in):
    domain = StorageDomainFactory()
    page = logged_in.get(reverse("inventory:storagedomain-detail", args=[domain.pk])).content.decode()
    assert reverse("inventory:storagedomain-attach", args=[domain.pk]) in page
    response = logged_in.post(reverse("inventory:storagedomain-attach", args=[domain.pk]), follow=True)
    assert "no SPM" in response.content.decode()


@pytest.mark.parametrize("segment", ["datacenters", "clusters", "hosts", "storage", "networks"])
def test_each_kind_has_its_own_explicit_create_edit_and_remove_paths(segment):
    assert reverse("inventory:object-create", args=[segment]) == f"/{segment}/new/"
    assert reverse("inventory:object-edit", args=[segment, 7]) == f"/{segment}/7/edit/"
    assert reverse("inventory:object-remove", args=[segment, 7]) == f"/{segment}/7/remove/"
    assert resolve(f"/{segment}/new/").func.view_initkwargs["kind"].segment == segment


def test_no_inventory_pattern_takes_another_apps_path():
    assert resolve("/vms/new/").url_name == "vm-create"
    with pytest.raises(NoReverseMatch):
        reverse("inventory:object-create", args=["vms"])
