"""The libvirt URI allow-list: what is accepted and normalised, what is refused and why."""

import pytest

from hypervisor import InvalidURI, validate_uri


@pytest.mark.parametrize(
    ("uri", "normalized"),
    [
        ("qemu:///system", "qemu:///system"),
        ("qemu:///session", "qemu:///session"),
        ("QEMU:///system", "qemu:///system"),
        ("qemu:///system?socket=/run/x/libvirt-sock", "qemu:///system?socket=/run/x/libvirt-sock"),
        ("qemu+unix:///system?socket=/run/ns1/libvirt-sock", "qemu+unix:///system?socket=/run/ns1/libvirt-sock"),
        ("qemu+tls://host.example.com/system", "qemu+tls://host.example.com/system"),
        ("qemu+tcp://10.0.0.2:16509/system", "qemu+tcp://10.0.0.2:16509/system"),
        ("qemu+ssh://root@Host-1.Example.com/system?no_tty=1", "qemu+ssh://root@host-1.example.com/system?no_tty=1"),
        ("qemu+libssh2://admin@node2/system?sshauth=agent,privkey", "qemu+libssh2://admin@node2/system?sshauth=agent,privkey"),
        ("qemu+libssh://[fd00::2]:2222/system", "qemu+libssh://[fd00::2]:2222/system"),
        ("qemu://host.example.com/system", "qemu://host.example.com/system"),
        ("test:///default", "test:///default"),
        ("test:///srv/hosts/two-socket-ht.xml", "test:///srv/hosts/two-socket-ht.xml"),
    ],
)
def test_it_accepts_and_normalizes_allowed_uris(uri, normalized):
    assert validate_uri(uri) == normalized


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("", "empty"),
        ("qemu:///system ", "whitespace"),
        ("qemu:///sys\ntem", "control"),
        ("qemu:/system", "form"),
        ("qemu+ext:///system?command=/bin/sh", "runs a local program"),
        ("qemu+tcp://host/system?command=/bin/sh", "runs a local program"),
        ("qemu+ssh://host/system?netcat=/tmp/nc", "program"),
        ("qemu+ssh://host/system?keyfile=/root/.ssh/id_rsa", "private key"),
        ("qemu+libssh2://host/system?known_hosts=/tmp/kh", "host keys"),
        ("qemu+libssh2://host/system?known_hosts_verify=ignore", "verification"),
        ("qemu+tls://host/system?no_verify=1", "certificate"),
        ("qemu+tls://host/system?pkipath=/tmp/pki", "certificates"),
        ("qemu+tcp://host/system?name=lxc:///", "another driver"),
        ("qemu+ssh://host/system?socket=/run/libvirt/libvirt-sock", "not allowed for +ssh"),
        ("qemu:///system?socket=relative/sock", "absolute path"),
        ("qemu:///system?frobnicate=1", "unknown parameter"),
        ("qemu:///system?socket=/a&socket=/b", "twice"),
        ("qemu+ssh://host/system?no_tty=yes", "allowed values"),
        ("xen:///system", "driver"),
        ("lxc:///", "driver"),
        ("vbox:///session", "driver"),
        ("esx://host/", "driver"),
        ("http://example.com/system", "driver"),
        ("qemu+https://host/system", "transport"),
        ("qemu:///", "path"),
        ("qemu:///system/../session", "path"),
        ("test:///etc/passwd", "node .xml file"),
        ("test:///srv/../etc/host.xml", "node .xml file"),
        ("qemu+tcp:///system", "names no host"),
        ("qemu+unix://host/system", "local socket"),
        ("qemu+ssh://root:secret@host/system", "password"),
        ("qemu+tcp://host:99999/system", "port"),
        ("qemu+tcp://bad_host!/system", "host name"),
        ("qemu:///system#frag", "fragment"),
    ],
)
def test_it_refuses_bad_uris_saying_why(uri, why):
    with pytest.raises(InvalidURI) as caught:
        validate_uri(uri)
    assert why in caught.value.message
    assert caught.value.transient is False
