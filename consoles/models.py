"""Console tickets: the one-time passes a browser presents to the console proxy."""

from django.conf import settings
from django.db import models

from core.choices import ChoiceSet


class ConsoleProtocol(ChoiceSet):
    VNC = "vnc"
    SPICE = "spice"
    SERIAL = "serial"
    CHOICES = [(VNC, "VNC", "blue"), (SPICE, "SPICE", "purple"), (SERIAL, "Serial console", "grey")]


class ConsoleTicket(models.Model):
    """A ticket is shown once, to the user it was issued to; only its SHA-256
    hash is kept, so a copy of the database opens no console. It is bound to
    one user, one VM and one protocol, used at most once, and expires soon
    after it is issued (CONSOLE_TICKET_SECONDS)."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    vm = models.ForeignKey("vms.Vm", on_delete=models.CASCADE, related_name="console_tickets")
    protocol = models.CharField(max_length=8, choices=ConsoleProtocol.choices())
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.protocol} ticket #{self.pk} for VM {self.vm_id}"
