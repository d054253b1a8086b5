"""The navigation every page shows."""

from django.urls import reverse

# (label, url name or None while the page does not exist yet)
NAVIGATION = [
    ("Dashboard", "dashboard"),
    ("Data centers", "inventory:datacenter-list"),
    ("Clusters", "inventory:cluster-list"),
    ("Hosts", "inventory:host-list"),
    ("Storage", "inventory:storagedomain-list"),
    ("Images", "inventory:image-list"),
    ("Networks", "inventory:network-list"),
    ("VMs", "vms:vm-list"),
    ("Templates", "templates:template-list"),
    ("Jobs", "core:job-list"),
    ("Events", "core:event-list"),
]


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    items = []
    for label, url_name in NAVIGATION:
        url = reverse(url_name) if url_name else None
        current = url is not None and (
            request.path == url if url == "/" else request.path.startswith(url)
        )
        items.append({"label": label, "url": url, "current": current})
    return {"navigation": items}
