"""The inventory's models."""

from inventory.models.network import Network
from inventory.models.image import Image
from inventory.models.topology import SPM_DEFAULT_PRIORITY, SPM_NEVER, Cluster, DataCenter, Host, StorageDomain

__all__ = ["Image", "SPM_DEFAULT_PRIORITY", "SPM_NEVER", "Cluster", "DataCenter", "Host", "Network", "StorageDomain"]
