"""Disk images and ISOs uploaded onto a storage domain (API.md ``images/``).

The file lives at ``path``, under ``<domain path>/images/``; its format and
sizes are read with qemu-img when the upload completes, never given by a client.
"""

from django.conf import settings
from django.db import models

from inventory.choices import ImageContent, ImageStatus
from inventory.models.topology import StorageDomain


class Image(models.Model):
    name = models.CharField(max_length=128)
    storage_domain = models.ForeignKey(StorageDomain, on_delete=models.PROTECT, related_name="images")
    content = models.CharField(max_length=8, choices=ImageContent.choices(), default=ImageContent.DISK)
    # As detected: qcow2, raw, iso, vmdk, vdi, vhdx, vpc.
    format = models.CharField(max_length=16, blank=True)
    virtual_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    actual_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    path = models.CharField(max_length=1024, blank=True)
    status = models.CharField(max_length=16, choices=ImageStatus.choices(), default=ImageStatus.UPLOADING)
    created_at = models.DateTimeField(auto_now_add=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="images"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["storage_domain", "name"], name="image_name_unique_per_domain"),
        ]

    def __str__(self) -> str:
        return self.name
