"""A real NFS server for the real lane: NFS-Ganesha (userspace, VFS FSAL),
NFSv4 only, on a loopback address of its own.

Why Ganesha: the kernel's NFS server needs nfsd in the kernel, and these
machines' kernel has no network file systems at all (CONFIG_NETWORK_FILESYSTEMS
is not set, and modules cannot be loaded): ``rpc.nfsd`` fails with "Unable to
access /proc/fs/nfsd errno 2". Ganesha serves from userspace and needs neither
nfsd nor rpcbind when it speaks NFSv4 only.

The client side is the kernel's too (``mount -t nfs``, which is what libvirt's
netfs pools run): ``kernel_nfs_mount_problem`` tries it and says why it fails,
so tests can tell "the portal is wrong" from "this kernel cannot mount NFS".
Packages: nfs-ganesha nfs-ganesha-vfs (server), nfs-common (mount.nfs),
libnfs-utils (a userspace client to check the server).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NFS_PORT = 2049
START_TIMEOUT_S = 20


@dataclass
class GaneshaServer:
    """Serves ``export_dir`` as ``<address>:/<pseudo>`` until ``stop``."""

    export_dir: Path
    state_dir: Path
    address: str = ""
    pseudo: str = "/export"
    process: subprocess.Popen | None = None

    def start(self) -> GaneshaServer:
        for tool in ("ganesha.nfsd",):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found: install nfs-ganesha and nfs-ganesha-vfs (scripts/setup test)")
        # A loopback address of our own: another run's server cannot hold its port.
        self.address = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.{random.randint(2, 250)}"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "recovery").mkdir(exist_ok=True)
        config = self.state_dir / "ganesha.conf"
        config.write_text(_config(self))
        log = self.state_dir / "ganesha.log"
        self.process = subprocess.Popen(
            ["ganesha.nfsd", "-F", "-f", str(config), "-L", str(log), "-p", str(self.state_dir / "ganesha.pid")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
                raise RuntimeError(f"nfs-ganesha did not start on {self.address}:{NFS_PORT}:\n{tail}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.address, NFS_PORT), timeout=0.5):
                return True
        except OSError:
            return False

    def read_with_libnfs(self, name: str) -> str:
        """A file of the export read by a userspace NFS client (libnfs): the
        server works, whatever the kernel can do."""
        if shutil.which("nfs-cat") is None:
            raise RuntimeError("nfs-cat not found: install libnfs-utils (scripts/setup test)")
        url = f"nfs://{self.address}{self.pseudo}/{name}?version=4"
        done = subprocess.run(["nfs-cat", url], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"nfs-cat {url} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout


def _config(server: GaneshaServer) -> str:
    return f"""
NFS_CORE_PARAM {{
    Protocols = 4;
    Bind_addr = {server.address};
    NFS_Port = {NFS_PORT};
    Enable_NLM = false;
    Enable_RQUOTA = false;
}}
NFSV4 {{
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = "{server.state_dir / 'recovery'}";
}}
EXPORT {{
    Export_Id = 1;
    Path = "{server.export_dir}";
    Pseudo = "{server.pseudo}";
    Protocols = 4;
    Transports = TCP;
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = sys;
    FSAL {{ Name = VFS; }}
}}
LOG {{ Default_Log_Level = EVENT; }}
"""


def kernel_nfs_mount_problem(server: GaneshaServer) -> str:
    """"" when this machine's kernel mounts the server's export (tried for
    real, then unmounted), else what mount.nfs said."""
    if shutil.which("mount.nfs") is None:
        return "mount.nfs not found: install nfs-common"
    with tempfile.TemporaryDirectory(prefix="pt-nfs-probe-") as target:
        done = subprocess.run(
            ["mount", "-t", "nfs", f"{server.address}:{server.pseudo}", target],
            capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0:
            return (f"mount -t nfs {server.address}:{server.pseudo} exits {done.returncode}: "
                    f"{(done.stderr or done.stdout).strip()}")
        subprocess.run(["umount", target], check=True, timeout=60)
    return ""
