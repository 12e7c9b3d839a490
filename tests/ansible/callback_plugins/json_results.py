# -*- coding: utf-8 -*-
# A stdout callback for the test suite: every task's result per host, as one JSON document at the
# end (ansible-core has no json callback of its own; ansible.posix's is not in Debian's package).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: json_results
    type: stdout
    short_description: every task's result per host, as JSON (libvirt-pci's tests)
    description:
      - "Prints one JSON document - plays, each with its tasks, each with its result per host; then stats."
'''

import json

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'json_results'

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({'play': {'name': play.get_name()}, 'tasks': []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]['tasks'].append({'task': {'name': task.get_name()}, 'hosts': {}})

    v2_playbook_on_handler_task_start = lambda self, task: self.v2_playbook_on_task_start(task, False)

    def _record(self, result, **extra):
        entry = dict(result._result)
        entry.update(extra)
        self.plays[-1]['tasks'][-1]['hosts'][result._host.get_name()] = entry

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        summary = dict((h, stats.summarize(h)) for h in sorted(stats.processed.keys()))
        self._display.display(json.dumps({'plays': self.plays, 'stats': summary}, cls=AnsibleJSONEncoder, indent=2, sort_keys=True))
