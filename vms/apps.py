from django.apps import AppConfig


class VmsConfig(AppConfig):
    name = "vms"
    verbose_name = "Virtual machines"

    def ready(self) -> None:
        from inventory.capacity import register_commitment_source
        from inventory.watcher import register_domain_event_handler
        from vms.selectors import clusters_commitment

        register_commitment_source(clusters_commitment)
        register_domain_event_handler(_vm_sync_event)


def _vm_sync_event(event) -> None:
    # Imported on first use: the services need every app's models loaded.
    from vms.services.sync import vm_sync_event

    vm_sync_event(event)
