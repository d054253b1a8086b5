"""The portal's only door to libvirt: plain Python, no Django, nothing of ours.

Everything here takes a host URI (validated by ``hypervisor.uri``) and raises
only ``HypervisorError`` subclasses (``hypervisor.errors``).
"""

from hypervisor.capabilities import Capabilities, parse_capabilities
from hypervisor.connection import add_close_listener, check_connection, close_all, get_connection, open_connection
from hypervisor.domain_xml import PORTAL_NS, build_domain_xml, parse_domain_xml
from hypervisor.domains import (
    DomainSummary,
    define_domain,
    destroy_domain,
    domain_state,
    domain_state_reason,
    domain_summary,
    domain_xml,
    domain_xml_inactive,
    list_domains,
    reboot_domain,
    resume_domain,
    run_domain_once,
    shutdown_domain,
    start_domain,
    suspend_domain,
    undefine_domain,
)
from hypervisor.screenshot import domain_screenshot_png
from hypervisor.consoles import (
    ConsoleAddress,
    domain_console_address,
    graphics_password_protected,
    graphics_password_shared,
    set_graphics_password,
)
from hypervisor.sealing import SEAL_OPERATIONS, CannotSeal, NotInspectable, SealOperation, SealReport, seal_volumes
from hypervisor.snapshots import SnapshotInfo, create_snapshot, delete_snapshot, list_snapshots, revert_snapshot
from hypervisor.errors import (
    Conflict,
    DomainNotFound,
    HostUnreachable,
    HypervisorError,
    InvalidSpec,
    InvalidURI,
    InvalidXML,
    NotFound,
    NotSupported,
    libvirt_errors,
    translate,
)
from hypervisor.events import DomainEvent, LifecycleListener, listen_lifecycle
from hypervisor.host import read_host_info, usable_cpu_models
from hypervisor.hotplug import HOTPLUG_BUSES, attach_disk_live, plug_memory, set_vcpus
from hypervisor.specs import (
    CpuTopology,
    DiskSpec,
    DomainSpec,
    GraphicsSpec,
    HostInfo,
    NicSpec,
    NumaCell,
    SerialSpec,
)
from hypervisor.uri import validate_uri

from hypervisor.network import (
    BridgeNetworkSpec,
    NetworkInfo,
    build_network_xml,
    ensure_bridge_network,
    list_networks,
    network_info,
    parse_network_xml,
    remove_network,
)
from hypervisor.qemu_img import ImageInfo, InvalidImage, QemuImgError, image_info, image_inspect
from hypervisor.storage import (
    PoolInfo,
    PoolSpec,
    build_pool_xml,
    ensure_dir_pool,
    list_pools,
    parse_pool_xml,
    pool_info,
    remove_pool,
)
from hypervisor.volumes import (
    COPY_SOURCE_FORMATS,
    VolumeInfo,
    copy_volume,
    create_volume,
    delete_volume,
    list_volumes,
    overlay_volume,
    resize_volume,
    upload_volume,
    volume_by_path,
    volume_chain,
)

__all__ = [
    "SEAL_OPERATIONS", "CannotSeal", "NotInspectable", "SealOperation", "SealReport", "seal_volumes",
    "SnapshotInfo", "create_snapshot", "delete_snapshot", "list_snapshots", "revert_snapshot",
    "usable_cpu_models",
    "plug_memory", "set_vcpus",
    "ImageInfo", "InvalidImage", "QemuImgError", "image_info", "image_inspect",
    "BridgeNetworkSpec", "NetworkInfo", "build_network_xml", "ensure_bridge_network", "list_networks",
    "network_info", "parse_network_xml", "remove_network",
    "PoolInfo", "PoolSpec", "VolumeInfo", "build_pool_xml", "ensure_dir_pool", "list_pools",
    "list_volumes", "parse_pool_xml", "pool_info", "remove_pool",
    "COPY_SOURCE_FORMATS", "copy_volume", "create_volume", "delete_volume", "overlay_volume", "resize_volume",
    "upload_volume", "volume_by_path", "volume_chain",
    "ConsoleAddress", "domain_console_address", "graphics_password_protected", "graphics_password_shared",
    "set_graphics_password",
    "domain_screenshot_png", "domain_state_reason", "domain_summary",
    "domain_xml_inactive", "HOTPLUG_BUSES", "attach_disk_live",
    "reboot_domain", "resume_domain", "run_domain_once", "shutdown_domain", "suspend_domain",
    "PORTAL_NS",
    "Capabilities",
    "Conflict",
    "CpuTopology",
    "DiskSpec",
    "DomainEvent",
    "DomainNotFound",
    "DomainSpec",
    "DomainSummary",
    "GraphicsSpec",
    "HostInfo",
    "HostUnreachable",
    "HypervisorError",
    "InvalidSpec",
    "InvalidURI",
    "InvalidXML",
    "LifecycleListener",
    "NicSpec",
    "NotFound",
    "NotSupported",
    "NumaCell",
    "SerialSpec",
    "add_close_listener",
    "build_domain_xml",
    "check_connection",
    "close_all",
    "define_domain",
    "destroy_domain",
    "domain_state",
    "domain_xml",
    "get_connection",
    "libvirt_errors",
    "list_domains",
    "listen_lifecycle",
    "open_connection",
    "parse_capabilities",
    "parse_domain_xml",
    "read_host_info",
    "start_domain",
    "translate",
    "undefine_domain",
    "validate_uri",
]
