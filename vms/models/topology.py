"""The vCPU count of a CPU topology, sockets x cores x threads, said once: for
Python (`vcpu_count`, behind Vm.vcpus and InstanceType.vcpus) and for queries
(`VCPUS`, an expression over any model's cpu_sockets, cpu_cores, cpu_threads)."""

from django.db.models import F

VCPUS = F("cpu_sockets") * F("cpu_cores") * F("cpu_threads")


def vcpu_count(sockets: int, cores: int, threads: int) -> int:
    return sockets * cores * threads
