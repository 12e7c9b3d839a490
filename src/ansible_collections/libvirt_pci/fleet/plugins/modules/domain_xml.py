#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: libvirt-pci developers
# MIT License (see the collection's LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: domain_xml
short_description: Give libvirt domain XML files the PCI addresses libvirt would, and keep them stable
version_added: "0.2.0"
description:
  - Runs C(libvirt-pci) on domain XML files and folders on the managed host. Every device gets
    the PCI address libvirt itself would give it (the same slots, the same auto-added
    pcie-root-ports and bridges), offline - no libvirt daemon is asked.
  - With C(stable=true) an address ledger in each domain's C(<metadata>) keeps addresses stable
    across device add/remove, so guests keep their NIC names and Windows does not reactivate.
  - The files are rewritten by the CLI itself, atomically (a temporary file, then rename; mode kept).
    Only the needed elements and attributes change; comments, quoting and unknown elements stay.
  - Folders are searched for files whose root element is C(<domain>); other XML is skipped.
  - A file the CLI refuses (malformed XML, a DOCTYPE, invalid addresses, an unsupported machine)
    fails that file with the CLI's C(FILE:LINE:COL) message; the other files are still done, and
    the task fails at the end, listing the failed files.
  - Check mode writes nothing and reports what would change. Diff mode returns each changed file
    before and after.
options:
  path:
    description:
      - Domain XML files or folders on the managed host.
    type: list
    elements: path
    required: true
  stable:
    description:
      - Start an address ledger in each domain's C(<metadata>) (a domain that has one always uses it).
    type: bool
    default: false
  backup:
    description:
      - Copy each file to a timestamped backup beside it before it is rewritten.
    type: bool
    default: false
notes:
  - C(libvirt_version) defaults to, first match wins - a C(.libvirt-pci.json) above each file, the libvirt installed on the host, else the newest.
  - C(changed) is true only when a file's bytes change.
seealso:
  - module: libvirt_pci.fleet.domains
extends_documentation_fragment:
  - libvirt_pci.fleet.cli
'''

EXAMPLES = r'''
- name: Address every domain definition in the repository checkout
  libvirt_pci.fleet.domain_xml:
    path: /srv/vm-definitions
    stable: true

- name: What would change, with the address lines (writes nothing)
  libvirt_pci.fleet.domain_xml:
    path: /etc/libvirt/qemu/web.xml
  check_mode: true
  diff: true

- name: Domains with more than 14 PCIe ports, for the libvirt of Debian 12
  libvirt_pci.fleet.domain_xml:
    path: [/srv/vms/big.xml]
    io_reserve: per-port
    libvirt_version: "9.0"
    backup: true
'''

RETURN = r'''
files:
  description: The CLI's C(--json) report, one entry per file (skipped non-domain files too).
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The file.
      type: str
    status:
      description: C(ok), C(error) (refused, or an error finding) or C(skipped) (not a domain).
      type: str
    changed:
      description: Whether its bytes changed (or would, in check mode).
      type: bool
    libvirt:
      description: The libvirt whose choices were reproduced, and C(files[].libvirtFrom) where that came from.
      type: str
    devices:
      description: Every PCI device - key, address, whether it was kept or assigned, and why.
      type: list
      elements: dict
    findings:
      description: Problems found, each with C(code), C(severity), C(message) and C(text) (the CLI's C(FILE:LINE:COL) line).
      type: list
      elements: dict
    backup_file:
      description: Where the original was copied (C(backup=true), changed files only).
      type: str
guest_visible_changes:
  description: >-
    Per file, the devices its guest already has that the new addresses move or rename (the
    C(libvirt-pci diff) view - C(key), C(before) and C(after) with C(guest) location and
    C(linuxName), C(windowsNewInstance), C(causes)). Empty when every device stays where the
    guest knows it (always, for files with a ledger).
  returned: always
  type: dict
changed_files:
  description: The files that changed (or would).
  returned: always
  type: list
  elements: str
failed_files:
  description: The files that failed, with the CLI's C(FILE:LINE:COL) messages.
  returned: always
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.libvirt_pci.fleet.plugins.module_utils.libvirt_pci import (
    COMMON_ARGS, common_flags, find_binary, finding_lines, run_json)


def main():
    argument_spec = dict(
        path=dict(type='list', elements='path', required=True),
        stable=dict(type='bool', default=False),
        backup=dict(type='bool', default=False),
    )
    argument_spec.update(COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    binary = find_binary(module)
    flags = common_flags(module.params) + (['--stable'] if module.params['stable'] else [])
    paths = module.params['path']
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        module.fail_json(msg="no such file or folder: %s" % ', '.join(missing))

    # 1. What would change, file by file (writes nothing).
    rc, report, err = run_json(module, [binary, '--json'] + flags + paths)
    files = report.get('files', [])
    failed = [f for f in files if f.get('status') == 'error']
    to_change = [f for f in files if f.get('status') == 'ok' and f.get('changed')]

    # 2. Diff mode: each changed file before, and after as the CLI prints it.
    diffs = []
    if module._diff:
        for f in to_change:
            rc2, after, err2 = module.run_command([binary] + flags + [f['file']])
            if rc2 != 0:
                module.fail_json(msg="libvirt-pci %s failed (exit %d): %s" % (f['file'], rc2, err2.strip()))
            with open(f['file'], 'r', encoding='utf-8-sig', newline='') as handle:
                before = handle.read()
            diffs.append(dict(before_header=f['file'], after_header=f['file'], before=before, after=after))

    # 3. Write: the CLI rewrites each file itself, atomically.
    if to_change and not module.check_mode:
        for f in to_change:
            if module.params['backup']:
                f['backup_file'] = module.backup_local(f['file'])
        rc3, out3, err3 = module.run_command([binary, '-i'] + flags + [f['file'] for f in to_change])
        if rc3 != 0:
            module.fail_json(msg="libvirt-pci -i failed (exit %d): %s" % (rc3, err3.strip()), files=files)

    result = dict(
        changed=bool(to_change),
        files=files,
        changed_files=[f['file'] for f in to_change],
        guest_visible_changes=dict((f['file'], f.pop('guestVisibleChanges')) for f in files if f.get('guestVisibleChanges')),
        failed_files=[line for f in failed for line in (finding_lines(f) or [f['file']])],
    )
    if diffs:
        result['diff'] = diffs
    if failed:
        # The message first and short: a failed result keeps each file's status and findings, not
        # every device (a folder's report runs to many KB, and the callback prints it whole).
        for f in files:
            f.pop('devices', None)
        module.fail_json(msg="%d of %d files failed: %s" % (len(failed), len(files), '; '.join(result['failed_files'])), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
