"""The ASGI application daphne serves: HTTP, the live-updates websocket and the consoles' (/websockify)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from consoles.consumers import ConsoleRelayConsumer  # noqa: E402
from consoles.serial import SerialConsoleConsumer  # noqa: E402
from core.consumers import UpdatesConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([
                path("ws/updates/", UpdatesConsumer.as_asgi()),
                # The console, on our own origin: relayed to the console proxy (consoles/consumers.py).
                path("websockify", ConsoleRelayConsumer.as_asgi()),
                # The serial console, relayed through libvirt (consoles/serial.py).
                path("ws/serial/", SerialConsoleConsumer.as_asgi()),
            ]))
        ),
    }
)
