#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: libvirt-pci developers
# MIT License (see the collection's LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: domains
short_description: Record and stabilise the PCI addresses of a host's defined libvirt domains
version_added: "0.2.0"
description:
  - Runs C(libvirt-pci migrate) on the managed host, through the host's own C(virsh). For each
    domain - C(virsh dumpxml --inactive), every current PCI address recorded in a ledger in the
    domain's C(<metadata>) (no address moves), optionally spare hotplug ports and the io-reserve
    fix, the original saved to C(backup_dir), C(virsh define), dumped again and every address
    verified.
  - A domain whose define or verification fails is defined again from its backup (rolled back)
    and reported; the other domains go on. The task then fails, listing the failed domains, so
    that C(max_fail_percentage) and C(serial) see it.
  - The libvirt whose choices are reproduced is the daemon's own (C(virsh version --daemon))
    unless C(libvirt_version) says otherwise.
  - Check mode is C(migrate --dry-run) - nothing is defined. Diff mode returns each changed
    domain's XML before and after.
  - Running domains keep running - the new definition applies at their next cold boot.
options:
  uri:
    description:
      - The libvirt connection URI on the host. Default - C(LIBVIRT_DEFAULT_URI) or virsh's default.
    type: str
  domains:
    description:
      - The domains to migrate. Default - every defined domain (C(virsh list --all)).
    type: list
    elements: str
    default: []
  backup_dir:
    description:
      - Where each original definition is saved before it is replaced, one C(NAME.xml) per domain.
      - Default - a new folder per run, C(/var/lib/libvirt-pci/backups/YYYYmmddTHHMMSSZ).
    type: path
  virsh:
    description:
      - The virsh to run. Default - C(virsh) on C(PATH).
    type: path
  accept_guest_changes:
    description:
      - Define a domain even when devices its guest already has would move or be renamed
        (see C(guest_visible_changes)). Recording the ledger never moves any; a q35
        conversion always does, and is accepted by asking for it.
    type: bool
    default: false
notes:
  - C(libvirt_version) defaults to the daemon's own version (C(virsh version --daemon)).
  - C(changed) is true only when a domain was defined anew (or would be, in check mode).
seealso:
  - module: libvirt_pci.fleet.domain_xml
extends_documentation_fragment:
  - libvirt_pci.fleet.cli
'''

EXAMPLES = r'''
- name: Record every domain's addresses on the host (backups under /var/lib/libvirt-pci/backups/TIMESTAMP)
  libvirt_pci.fleet.domains:

- name: Two domains, with two spare hotplug ports each, on a remote-style URI
  libvirt_pci.fleet.domains:
    uri: qemu:///system
    domains: [web, db]
    spare_ports: 2
    backup_dir: /root/libvirt-pci-backups/2026-12-03
  register: migrated

- name: What would change (defines nothing), with each domain's XML before and after
  libvirt_pci.fleet.domains:
  check_mode: true
  diff: true
'''

RETURN = r'''
domains:
  description: One entry per domain, from C(migrate --json).
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The domain's name.
      type: str
    status:
      description: C(unchanged), C(changed), C(would change) (check mode), C(rolled back) or C(failed).
      type: str
    error:
      description: Why it failed (a rolled-back domain says where its original was restored from).
      type: str
    backup:
      description: The saved original definition.
      type: str
    note:
      description: For a running domain - when the new definition applies.
      type: str
    findings:
      description: Problems found, each with C(code), C(severity), C(message) and C(text).
      type: list
      elements: dict
guest_visible_changes:
  description: >-
    Per domain, the devices the guest already has that would move or be renamed (the
    C(libvirt-pci diff) view - C(key), C(before) and C(after) with C(guest) location and
    C(linuxName), C(windowsNewInstance), C(causes)). Such a domain is not defined unless
    I(accept_guest_changes) is set.
  returned: always
  type: dict
summary:
  description: Counts - C(domains), C(changed), C(unchanged), C(failed).
  returned: always
  type: dict
libvirt:
  description: The libvirt whose choices were reproduced, and where that came from.
  returned: always
  type: dict
backups:
  description: The backup files written on the host.
  returned: always
  type: list
  elements: str
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.libvirt_pci.fleet.plugins.module_utils.libvirt_pci import (
    COMMON_ARGS, common_flags, find_binary, run_json)


def main():
    argument_spec = dict(
        uri=dict(type='str'),
        domains=dict(type='list', elements='str', default=[]),
        backup_dir=dict(type='path'),
        virsh=dict(type='path'),
        accept_guest_changes=dict(type='bool', default=False),
    )
    argument_spec.update(COMMON_ARGS)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    binary = find_binary(module)
    p = module.params
    backup_dir = p['backup_dir'] or time.strftime('/var/lib/libvirt-pci/backups/%Y%m%dT%H%M%SZ', time.gmtime())
    args = [binary, 'migrate', '--json', '--backup-dir', backup_dir] + common_flags(p)
    if p['uri']:
        args += ['-c', p['uri']]
    if p['virsh']:
        args += ['--virsh', p['virsh']]
    if p['accept_guest_changes']:
        args.append('--accept-guest-changes')
    if module.check_mode:
        args.append('--dry-run')
    args += p['domains'] if p['domains'] else ['--all']

    rc, report, err = run_json(module, args)
    entries = report.get('domains', [])
    diffs = [dict(before_header=d['domain'], after_header=d['domain'], before=d['before'], after=d['after'])
             for d in entries if module._diff and d.get('status') in ('changed', 'would change') and 'before' in d]
    for d in entries:  # the XML travels in the diff, not in every result
        d.pop('before', None)
        d.pop('after', None)
    failed = [d for d in entries if d.get('status') in ('failed', 'rolled back')]
    result = dict(
        changed=any(d.get('status') in ('changed', 'would change') for d in entries),
        domains=entries,
        summary=report.get('summary', {}),
        libvirt=dict(version=report.get('libvirt'), source=report.get('libvirtFrom')),
        backups=[d['backup'] for d in entries if d.get('backup')],
        guest_visible_changes=dict((d['domain'], d.pop('guestVisibleChanges')) for d in entries if d.get('guestVisibleChanges')),
    )
    if diffs:
        result['diff'] = diffs
    if failed:
        module.fail_json(msg="%d of %d domains failed: %s" % (len(failed), len(entries), '; '.join(
            '%s: %s' % (d['domain'], d.get('error', d['status'])) for d in failed)), **result)
    if rc not in (0, 1) and not entries:
        module.fail_json(msg="libvirt-pci migrate failed (exit %d): %s" % (rc, err.strip()), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
