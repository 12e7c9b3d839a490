# -*- coding: utf-8 -*-
# Copyright: libvirt-pci developers
# MIT License (see the collection's LICENSE)
"""Running the libvirt-pci CLI on a host: finding it, checking its version, building its flags.

The modules decide nothing about addresses: the CLI does, and these helpers only call it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

# The oldest CLI these modules can drive (migrate --json arrived in 0.2.0).
MIN_VERSION = (0, 2, 0)
INSTALL_HINT = "install it with the role libvirt_pci.fleet.install"

# Options every module shares, in AnsibleModule's argument_spec form.
COMMON_ARGS = dict(
    spare_ports=dict(type='int'),
    io_reserve=dict(type='str', choices=['off', 'per-port', 'remove']),
    libvirt_version=dict(type='str'),
    binary=dict(type='path'),
)


def _parse_version(text):
    try:
        return tuple(int(p) for p in text.strip().split('+')[0].split('.')[:3])
    except ValueError:
        return None


def find_binary(module):
    """The libvirt-pci to run (the binary option, else PATH and /usr/local/bin), checked for its version."""
    path = module.params.get('binary')
    if path:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            module.fail_json(msg="libvirt-pci is not at %s (or not executable): %s" % (path, INSTALL_HINT))
    else:
        path = module.get_bin_path('libvirt-pci', opt_dirs=['/usr/local/bin'])
        if not path:
            module.fail_json(msg="libvirt-pci is not installed on this host (not on PATH nor in /usr/local/bin): %s" % INSTALL_HINT)
    rc, out, err = module.run_command([path, '--version'])
    version = _parse_version(out) if rc == 0 else None
    if version is None:
        module.fail_json(msg="%s --version failed (%s): %s" % (path, (err or out).strip(), INSTALL_HINT))
    if version < MIN_VERSION:
        module.fail_json(msg="libvirt-pci %s at %s is too old: these modules need %s or newer; %s"
                         % (out.strip(), path, '.'.join(map(str, MIN_VERSION)), INSTALL_HINT.replace('install it', 'upgrade it')))
    return path


def common_flags(params):
    """The CLI flags for the shared options (None means: not given, the CLI or .libvirt-pci.json decides)."""
    flags = []
    if params.get('spare_ports') is not None:
        flags += ['--spare-ports', str(params['spare_ports'])]
    if params.get('io_reserve'):
        flags += ['--io-reserve', params['io_reserve']]
    if params.get('libvirt_version'):
        flags += ['--libvirt-version', params['libvirt_version']]
    return flags


def run_json(module, args):
    """Runs the CLI with --json among args; returns (rc, report, stderr). A missing report is a failure."""
    rc, out, err = module.run_command(args)
    try:
        return rc, json.loads(out), err
    except ValueError:
        module.fail_json(msg="libvirt-pci printed no JSON report (exit %d): %s" % (rc, (err or out).strip()), rc=rc, cmd=args)


def finding_lines(entry):
    """The CLI's own FILE:LINE:COL lines of an entry's error findings."""
    return [f.get('text') or f.get('message', '') for f in entry.get('findings', []) if f.get('severity') == 'error']
