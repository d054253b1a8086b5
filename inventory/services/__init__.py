"""Business rules of the inventory. Interfaces and tasks call these; only
these talk to the hypervisor package."""

from core.objects import object_create, object_remove, object_update
from inventory.services.hosts import (
    host_activate,
    host_activate_run,
    host_add,
    host_add_run,
    host_check,
    host_refresh,
    host_refresh_run,
    host_remove,
    host_set_status,
    host_store_facts,
    host_update,
    hosts_check_all,
)
from inventory.services.network import (
    network_attach,
    network_attach_run,
    network_check_host,
    network_create,
    network_detach,
    network_detach_run,
    network_remove,
    network_update,
)
from inventory.services.seed import demo_seed
from inventory.services.spm import spm_review
from inventory.services.storage import (
    storage_domain_attach,
    storage_domain_attach_run,
    storage_domain_detach,
    storage_domain_detach_run,
    storage_domain_refresh,
    storage_domain_remove,
    storage_domain_update,
    storage_domains_connect_host,
    storage_domains_refresh_all,
)

__all__ = [
    "demo_seed", "host_activate", "host_activate_run", "host_add", "host_add_run", "host_check", "host_refresh", "host_refresh_run",
    "host_remove", "host_set_status", "host_store_facts", "host_update", "hosts_check_all",
    "network_attach", "network_attach_run", "network_check_host", "network_create", "network_detach",
    "network_detach_run", "network_remove", "network_update",
    "object_create", "object_remove", "object_update", "spm_review", "storage_domain_attach",
    "storage_domain_attach_run", "storage_domain_detach", "storage_domain_detach_run",
    "storage_domain_refresh", "storage_domain_remove", "storage_domain_update",
    "storage_domains_connect_host", "storage_domains_refresh_all",
]
