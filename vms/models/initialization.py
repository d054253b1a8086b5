"""First-boot personalisation (oVirt's Initial Run): what a new VM is told at
its first start, through a config drive attached for that start only."""

from django.db import models


class VmInitialization(models.Model):
    """The answers given at creation, kept until the first start has
    happened (``applied_at``). The password is stored encrypted
    (core.secrets) and never shown back; ``drive_path`` is the config drive's
    volume while it exists on the storage domain."""

    vm = models.OneToOneField("vms.Vm", on_delete=models.CASCADE, related_name="initialization")
    hostname = models.CharField(max_length=253)
    user_name = models.CharField(max_length=32, blank=True)
    password_secret = models.TextField(blank=True)
    ssh_authorized_keys = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    custom_script = models.TextField(blank=True)
    drive_path = models.CharField(max_length=1024, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"first boot of {self.vm.name}"

    @property
    def pending(self) -> bool:
        """The first start has not happened yet: the drive goes with the next start."""
        return self.applied_at is None
