"""The vms app: registers its capacity, domain-event and host-page hooks with the inventory."""

from django.apps import AppConfig


class VmsConfig(AppConfig):
    name = "vms"
    verbose_name = "Virtual machines"

    def ready(self) -> None:
        from inventory import capacity
        from inventory.actions import register_action_source
        from inventory.models import Cluster, Host
        from inventory.services.fencing import register_host_fenced_handler
        from inventory.watcher import register_domain_event_handler
        from vms import selectors
        from vms.views.maintenance import balance_actions, maintenance_plan_actions

        capacity.register_commitment_source(selectors.clusters_commitment)
        capacity.register_host_commitment_source(selectors.hosts_commitment)
        capacity.register_host_workload_source(selectors.host_workloads)
        register_domain_event_handler(_vm_sync_event)
        register_action_source(Host, maintenance_plan_actions)
        register_action_source(Cluster, balance_actions)
        register_host_fenced_handler(_vms_host_dead)


def _vms_host_dead(host, why: str) -> None:
    from vms.services.ha import vms_host_dead

    vms_host_dead(host, why)


def _vm_sync_event(event) -> None:
    # Imported on first use: the services need every app's models loaded.
    from vms.services.sync import vm_sync_event

    vm_sync_event(event)
