from inventory.models.topology import SPM_DEFAULT_PRIORITY, SPM_NEVER, Cluster, DataCenter, Host, StorageDomain

__all__ = ["SPM_DEFAULT_PRIORITY", "SPM_NEVER", "Cluster", "DataCenter", "Host", "StorageDomain"]
