"""The vms app: registers its capacity and domain-event hooks with the inventory."""

from django.apps import AppConfig


class VmsConfig(AppConfig):
    name = "vms"
    verbose_name = "Virtual machines"

    def ready(self) -> None:
        from inventory import capacity
        from inventory.watcher import register_domain_event_handler
        from vms import selectors

        capacity.register_commitment_source(selectors.clusters_commitment)
        capacity.register_host_commitment_source(selectors.hosts_commitment)
        capacity.register_host_workload_source(selectors.host_workloads)
        register_domain_event_handler(_vm_sync_event)


def _vm_sync_event(event) -> None:
    # Imported on first use: the services need every app's models loaded.
    from vms.services.sync import vm_sync_event

    vm_sync_event(event)
