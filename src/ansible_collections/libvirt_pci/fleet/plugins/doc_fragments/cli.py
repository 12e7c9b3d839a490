# -*- coding: utf-8 -*-
# Copyright: libvirt-pci developers
# MIT License (see the collection's LICENSE)
"""The options every libvirt_pci.fleet module passes to the CLI (module_utils/libvirt_pci.py COMMON_ARGS)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  spare_ports:
    description:
      - Keep this many empty hotplug pcie-root-ports (q35) for devices added later.
    type: int
  io_reserve:
    description:
      - Inject QEMU's io-reserve fix for domains past the firmware's I/O limit (14 PCIe ports).
      - C(off) adds C(-global pcie-root-port.io-reserve=0); C(per-port) a C(<qemu:override>) per
        port that needs no I/O; C(remove) takes an injection out again.
    type: str
    choices: ['off', 'per-port', 'remove']
  libvirt_version:
    description:
      - The libvirt whose choices to reproduce, C(X.Y) from 7.0 to 11.3.
    type: str
  binary:
    description:
      - The libvirt-pci to run. Default - C(libvirt-pci) on C(PATH) or in C(/usr/local/bin).
      - A missing or too old binary fails the task with a message naming the role
        C(libvirt_pci.fleet.install).
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Needs libvirt-pci 0.2.0 or newer on the managed host; the role C(libvirt_pci.fleet.install)
    puts its NativeAOT binary there (no .NET needed on the hosts).
author:
  - libvirt-pci developers
'''
