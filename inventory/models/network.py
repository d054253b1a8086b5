"""Logical networks of a data center, realised on its hosts: an untagged network
as a Linux bridge of its own, a VLAN network as tagged ports on the hosts'
Open vSwitch bridge (see inventory.services.network)."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from inventory.choices import NetworkStatus

VLAN_MIN, VLAN_MAX = 1, 4094
MTU_MIN, MTU_MAX, MTU_DEFAULT = 68, 9000, 1500
# Linux limits an interface name to 15 bytes (IFNAMSIZ - 1); "." and ".." are not names.
BRIDGE_NAME_MAX = 15
bridge_name_validator = RegexValidator(
    r"^(?!\.{1,2}$)[a-zA-Z0-9_.-]{1,15}$",
    "A bridge name is 1 to 15 letters, digits, '_', '.' or '-' (and not '.' or '..').",
)


class Network(models.Model):
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    data_center = models.ForeignKey("inventory.DataCenter", on_delete=models.PROTECT, related_name="networks")
    vm_network = models.BooleanField(default=True)
    # Realised as the VLAN tag of the guests' ports on an Open vSwitch bridge.
    vlan = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(VLAN_MIN), MaxValueValidator(VLAN_MAX)]
    )
    mtu = models.PositiveIntegerField(
        default=MTU_DEFAULT, validators=[MinValueValidator(MTU_MIN), MaxValueValidator(MTU_MAX)]
    )
    # Untagged: the Linux bridge libvirt creates for this network alone. With a
    # VLAN: the hosts' Open vSwitch bridge that carries it, shared with the
    # other VLANs. Blank only until the service derives it.
    bridge = models.CharField(max_length=BRIDGE_NAME_MAX, blank=True, validators=[bridge_name_validator])
    status = models.CharField(max_length=16, choices=NetworkStatus.choices(), default=NetworkStatus.UNATTACHED)

    class Meta:
        ordering = ["data_center__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["data_center", "name"], name="network_name_unique_per_data_center"),
            # A Linux bridge has one network; an Open vSwitch bridge one per VLAN.
            models.UniqueConstraint(
                fields=["data_center", "bridge"], condition=~Q(bridge="") & Q(vlan__isnull=True),
                name="network_bridge_unique_per_data_center",
            ),
            models.UniqueConstraint(
                fields=["data_center", "bridge", "vlan"], condition=~Q(bridge="") & Q(vlan__isnull=False),
                name="network_vlan_unique_per_bridge",
            ),
        ]

    def __str__(self) -> str:
        return self.name
