"""The demo's seed (inventory/services/seed.py): what `make run` gives a first VM."""

import pytest

from inventory.choices import NetworkStatus
from inventory.models import Network
from inventory.services import demo_seed
from vms.forms import vm_networks_of

pytestmark = pytest.mark.django_db


def test_it_seeds_a_vm_network_in_the_demo_data_center_once(tmp_path):
    host = demo_seed(storage_path=str(tmp_path))
    demo_seed(storage_path=str(tmp_path))

    network = Network.objects.get()
    assert network.data_center == host.cluster.data_center
    assert network.vm_network and network.vlan is None and network.bridge == "vm-network"
    assert network.status == NetworkStatus.UNATTACHED  # seed_demo attaches it with a job
    assert list(vm_networks_of(host.cluster)) == [network]  # what the wizard offers a first VM
