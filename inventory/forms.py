"""The UI's forms. Ranges and uniqueness come from the models; the URI,
scheduling and path checks are the same functions the API uses."""

from __future__ import annotations

from django import forms

import hypervisor
from core.errors import InvalidInput
from inventory.choices import ImageContent, StorageDomainType
from inventory.models import Cluster, DataCenter, Host, Network, StorageDomain
from inventory.services.power import host_power_fields

POWER_FIELDS = ("enabled", "agent", "address", "port", "username", "options")
from inventory.scheduling import scheduling_parameters_clean
from inventory.validation import storage_path_clean, storage_source_errors


class DataCenterForm(forms.ModelForm):
    class Meta:
        model = DataCenter
        fields = ["name", "description", "classification", "storage_type"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ClusterForm(forms.ModelForm):
    scheduling_parameters = forms.JSONField(
        required=False, initial=dict,
        help_text='e.g. {"HighUtilization": 80}; leave empty for the policy\'s defaults.',
    )

    class Meta:
        model = Cluster
        fields = [
            "name", "description", "data_center", "cpu_model", "memory_overcommit_percent",
            "scheduling_policy", "scheduling_parameters", "migration_policy", "migration_bandwidth_mbps",
            "reserved_headroom_percent", "ksm_enabled", "ballooning_enabled", "threads_as_cores",
            "shutdown_timeout_seconds",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "cpu_model": "CPU model", "memory_overcommit_percent": "Memory overcommit (%)",
            "migration_bandwidth_mbps": "Migration bandwidth (Mbps)", "reserved_headroom_percent": "Reserved headroom (%)",
            "ksm_enabled": "KSM (merge identical memory pages)", "ballooning_enabled": "Memory ballooning",
            "threads_as_cores": "Count threads as cores",
            "shutdown_timeout_seconds": "Shutdown timeout (s)",
        }
        help_texts = {
            "memory_overcommit_percent": "None 100 %, Server 150 %, Desktop 200 %, or 100-400.",
            "migration_bandwidth_mbps": "Empty: automatic (52 MiB/s when the link speed is unknown).",
            "shutdown_timeout_seconds": "After asking the guest to shut down, power it off when it is still running.",
        }

    def clean(self):
        cleaned = super().clean()
        policy = cleaned.get("scheduling_policy")
        if policy:
            try:
                cleaned["scheduling_parameters"] = scheduling_parameters_clean(
                    policy=policy, given=cleaned.get("scheduling_parameters") or {}
                )
            except InvalidInput as error:
                self.add_error("scheduling_parameters", error.detail)
        return cleaned


class HostForm(forms.ModelForm):
    pm_password = forms.CharField(
        label="BMC password", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted, never shown. Leave empty to keep the one set.",
    )

    class Meta:
        model = Host
        fields = ["name", "cluster", "uri", "spm_priority", "pm_enabled", "pm_agent", "pm_address",
                  "pm_port", "pm_username", "pm_password", "pm_options"]
        labels = {
            "uri": "libvirt URI", "spm_priority": "SPM priority", "pm_enabled": "Power management enabled",
            "pm_agent": "BMC agent", "pm_address": "BMC address", "pm_port": "BMC port",
            "pm_username": "BMC user name", "pm_options": "BMC options",
        }
        help_texts = {
            "uri": "A libvirt URI, e.g. qemu:///system or qemu+ssh://root@host1/system.",
            "spm_priority": "-1 never SPM; Low 2, Normal 5, High 7 (0-10).",
        }

    def clean_uri(self):
        try:
            return hypervisor.validate_uri(self.cleaned_data["uri"])
        except hypervisor.InvalidURI as error:
            raise forms.ValidationError(error.message)

    def clean(self):
        cleaned = super().clean()
        given = {name: cleaned.pop(f"pm_{name}") for name in POWER_FIELDS if f"pm_{name}" in cleaned}
        password = cleaned.pop("pm_password", "")
        if password:
            given["password"] = password
        try:
            cleaned.update(host_power_fields(given=given, host=self.instance if self.instance.pk else None))
        except InvalidInput as error:
            self.add_error(None, error.detail)
        return cleaned


class StorageDomainForm(forms.ModelForm):
    class Meta:
        model = StorageDomain
        fields = ["name", "description", "data_center", "domain_type", "storage_type", "path",
                  "nfs_server", "nfs_export"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "path": "The directory on every host; for NFS, where the hosts mount the export.",
            "nfs_server": "NFS only: the server's host name or IP address.",
            "nfs_export": "NFS only: the exported directory on the server, e.g. /exports/data.",
        }

    def clean_path(self):
        try:
            return storage_path_clean(self.cleaned_data["path"])
        except InvalidInput as error:
            raise forms.ValidationError(error.detail)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("storage_type"):
            errors = storage_source_errors(storage_type=cleaned["storage_type"],
                                           nfs_server=cleaned.get("nfs_server", ""),
                                           nfs_export=cleaned.get("nfs_export", ""))
            for field, message in errors.items():
                self.add_error(field, message)
            if not errors and cleaned.get("nfs_export"):
                cleaned["nfs_export"] = storage_path_clean(cleaned["nfs_export"])
        return cleaned


class NetworkForm(forms.ModelForm):
    class Meta:
        model = Network
        fields = ["name", "description", "data_center", "vm_network", "vlan", "mtu", "bridge"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"vm_network": "VM network (guests may use it)", "vlan": "VLAN", "mtu": "MTU"}
        help_texts = {
            "vlan": ("VLAN 1-4094, empty for none. A VLAN network tags its guests' ports on the hosts' "
                     "Open vSwitch bridge, which every host must have."),
            "mtu": ("Bytes; 1500 unless the switches carry jumbo frames. With a VLAN, the hosts' Open vSwitch "
                    "bridge must have this MTU."),
            "bridge": ("empty: derived from the name (a Linux bridge of this network's own); "
                       "with a VLAN, the hosts' Open vSwitch bridge (empty: ovsbr0)"),
        }

    def clean(self):
        """Say whose the bridge is (the constraints alone only name themselves),
        for a derived bridge name too."""
        from inventory.services.network import default_bridge, network_bridge_problem

        cleaned = super().clean()
        name, data_center = cleaned.get("name"), cleaned.get("data_center")
        if not name or data_center is None or self.has_error("bridge") or self.has_error("vlan"):
            return cleaned
        try:
            bridge = cleaned.get("bridge") or default_bridge(name=name, vlan=cleaned.get("vlan"))
        except InvalidInput as error:
            self.add_error("bridge", error.detail)
            return cleaned
        problem = network_bridge_problem(data_center=data_center, bridge=bridge, vlan=cleaned.get("vlan"),
                                         name=name, exclude_pk=self.instance.pk)
        if problem:
            self.add_error("bridge", problem)
        return cleaned


# The domains images may be uploaded to (the API refuses export domains too).
IMAGE_DOMAIN_TYPES = (StorageDomainType.DATA, StorageDomainType.ISO)


class ImageUploadForm(forms.Form):
    """The upload page's fields, named as the API's: upload.js posts them there."""

    storage_domain = forms.ModelChoiceField(queryset=StorageDomain.objects.none(), empty_label=None)
    name = forms.CharField(max_length=128, help_text="Unique on the storage domain; filled in from the file's name.")
    content = forms.ChoiceField(choices=ImageContent.choices(), initial=ImageContent.DISK,
                                help_text="A disk image (qcow2, raw, vmdk ...) or an installation ISO.")
    file = forms.FileField(help_text="Checked once it has arrived, then sent to the storage domain through its SPM host.")

    def __init__(self, *args, domains, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["storage_domain"].queryset = domains
        self.fields["storage_domain"].label_from_instance = (
            lambda domain: f"{domain.name} ({StorageDomainType.label(domain.domain_type)}, {domain.data_center.name})"
        )
