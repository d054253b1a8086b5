"""``manage.py console_proxy [host:port]``: the console proxy (consoles/proxy.py)."""

from django.core.management.base import BaseCommand, CommandError

from consoles.proxy import serve


class Command(BaseCommand):
    help = "Relay browser consoles (WebSocket) to the VMs' VNC and SPICE servers, for valid tickets only."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("listen", nargs="?", default="127.0.0.1:6080",
                            help="address:port to listen on (default 127.0.0.1:6080; keep it local)")

    def handle(self, *args, listen: str, **options):
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandError(f"Listen on host:port, not {listen!r}.")
        self.stdout.write(f"Console proxy listening on {host}:{port}", ending="\n")
        self.stdout.flush()
        serve(host.strip("[]"), int(port))
