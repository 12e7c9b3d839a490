#!/usr/bin/env python3
"""Extract libvirt's x86 pc/q35 xml->xml test pairs from an unpacked libvirt source tree.

Usage: libvirt_corpus.py SRC_TREE DEST VERSION

Reads the test program the way its C preprocessor would (function-like macros expanded down to
the one that runs a case), so each case gets the capabilities libvirt's own test gave it:
  latest      the newest real QEMU capabilities of that libvirt (tests/qemucapabilitiesdata)
  ver:X.Y.Z   the capabilities of one QEMU version
  fake        a hand-picked capability list (column fake_caps_flags of CAPS.tsv)
Layouts: libvirt <= 10.x: tests/qemuxml2xmltest.c, tests/qemuxml2argvdata/NAME.xml ->
tests/qemuxml2xmloutdata/NAME[-inactive]SUFFIX.xml; libvirt >= 10.x: tests/qemuxmlconftest.c,
tests/qemuxmlconfdata/NAME.xml -> NAME SUFFIX.xml.
Writes CASE.in.xml, CASE.out.xml, MANIFEST.tsv, CAPS.tsv. Nothing outside DEST is written.
"""
import os
import re
import shutil
import sys

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|\.\.\.|\S')


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def read_defines(text):
    """Function-like and object-like #defines: name -> (params or None, body tokens)."""
    defines = {}
    lines = text.replace('\\\n', ' ').split('\n')
    for line in lines:
        m = re.match(r'\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)(\(([^)]*)\))?\s*(.*)$', line)
        if not m:
            continue
        params = [p.strip() for p in m.group(3).split(',')] if m.group(2) else None
        defines[m.group(1)] = (params, TOKEN.findall(m.group(4)))
    return defines, '\n'.join(l for l in lines if not re.match(r'\s*#', l))


def split_args(tokens, start):
    """Arguments of the call whose '(' is tokens[start]; returns (args, index after ')')."""
    depth, args, cur, i = 0, [], [], start
    while i < len(tokens):
        t = tokens[i]
        if t == '(':
            depth += 1
            if depth > 1:
                cur.append(t)
        elif t == ')':
            depth -= 1
            if depth == 0:
                args.append(cur)
                return args, i + 1
            cur.append(t)
        elif t == ',' and depth == 1:
            args.append(cur)
            cur = []
        else:
            cur.append(t)
        i += 1
    raise ValueError('unbalanced call')


def expand(tokens, defines, terminal, depth=0):
    """Expands macros in tokens; calls of `terminal` are yielded as argument lists."""
    if depth > 30:
        raise ValueError('macro recursion')
    i = 0
    while i < len(tokens):
        t = tokens[i]
        d = defines.get(t)
        if t == terminal and i + 1 < len(tokens) and tokens[i + 1] == '(':
            args, i = split_args(tokens, i + 1)
            yield [expand_flat(a, defines, depth + 1) for a in args]
            continue
        if d and d[0] is not None and i + 1 < len(tokens) and tokens[i + 1] == '(':
            params, body = d
            args, i = split_args(tokens, i + 1)
            binding = {}
            for k, p in enumerate(params):
                if p == '...':
                    rest = []
                    for j, a in enumerate(args[k:]):
                        rest += ([','] if j else []) + a
                    binding['__VA_ARGS__'] = rest
                else:
                    binding[p] = args[k] if k < len(args) else []
            out = []
            for b in body:
                out += binding.get(b, [b])
            yield from expand(out, defines, terminal, depth + 1)
            continue
        i += 1


def expand_flat(tokens, defines, depth):
    out = []
    for t in tokens:
        d = defines.get(t)
        if d and d[0] is None and depth < 30:
            out += expand_flat(d[1], defines, depth + 1)
        else:
            out.append(t)
    return out


def literal(tokens):
    """A C string from adjacent literals ("." "x86_64" "-" "latest"), else the tokens joined."""
    if tokens and all(t.startswith('"') for t in tokens):
        return ''.join(t[1:-1] for t in tokens)
    return ' '.join(tokens)


def test_calls(program):
    text = strip_comments(open(program, encoding='utf-8').read())
    defines, code = read_defines(text)
    # the terminal macro is the one that runs a case: its body calls no other DO_TEST macro
    terminal = None
    for name, (params, body) in defines.items():
        if name.startswith('DO_TEST') and params and not any(b.startswith('DO_TEST') for b in body):
            if any('name' in p for p in params) and any('suffix' in p for p in params):
                terminal = name
    if terminal is None:
        raise SystemExit(f'{program}: no DO_TEST macro that runs a case')
    params = defines[terminal][0]
    idx = {'name': next(k for k, p in enumerate(params) if 'name' in p),
           'suffix': next(k for k, p in enumerate(params) if 'suffix' in p),
           'when': next((k for k, p in enumerate(params) if p == 'when'), None),
           'va': params.index('...')}
    body = code[code.index('mymain'):] if 'mymain' in code else code
    tokens = TOKEN.findall(body)
    for args in expand(tokens, defines, terminal):
        extra = []
        for j, a in enumerate(args[idx['va']:]):
            extra += ([','] if j else []) + a
        yield {'macro_args': args,
               'name': literal(args[idx['name']]),
               'suffix': literal(args[idx['suffix']]),
               'when': ' '.join(args[idx['when']]) if idx['when'] is not None else 'WHEN_BOTH',
               'va': [x for x in split_va(extra)]}


def split_va(tokens):
    cur = []
    for t in tokens:
        if t == ',':
            yield cur
            cur = []
        else:
            cur.append(t)
    if cur:
        yield cur


def parse_va(va):
    """testQemuInfoSetArgs' argument list: ARG_X value... ARG_END."""
    caps_arch = caps_ver = None
    fake, other = [], []
    i = 0
    items = [literal(a) for a in va]
    while i < len(items):
        a = items[i]
        if a == 'ARG_END':
            break
        if a == 'ARG_QEMU_CAPS':
            i += 1
            while i < len(items) and items[i] not in ('QEMU_CAPS_LAST', 'NONE'):
                fake.append(items[i])
                i += 1
        elif a == 'ARG_CAPS_ARCH':
            i += 1
            caps_arch = items[i]
        elif a == 'ARG_CAPS_VER':
            i += 1
            caps_ver = items[i]
        elif a.startswith('ARG_'):
            vals = []
            while i + 1 < len(items) and not items[i + 1].startswith('ARG_'):
                i += 1
                vals.append(items[i])
            other.append(a + '=' + '|'.join(vals))
        i += 1
    return caps_arch, caps_ver, fake, other


def domain_facts(xml):
    m = re.search(r"<type\b[^>]*>", xml)
    arch = re.search(r"arch=['\"]([^'\"]+)", m.group(0)) if m else None
    machine = re.search(r"machine=['\"]([^'\"]+)", m.group(0)) if m else None
    return (arch.group(1) if arch else ''), (machine.group(1) if machine else '')


def machine_kind(machine):
    if re.fullmatch(r'q35|pc-q35-.*', machine):
        return 'q35'
    if re.fullmatch(r'pc|pc-i440fx-.*|pc-\d.*', machine):
        return 'pc'
    return 'other'


def features(xml):
    tags = sorted(set(re.findall(r"model=['\"](pci-bridge|pcie-root-port|dmi-to-pci-bridge|pcie-to-pci-bridge|"
                                 r"pci-expander-bus|pcie-expander-bus|pcie-switch-[a-z-]+)['\"]", xml)))
    if "multifunction='on'" in xml or 'multifunction="on"' in xml:
        tags.append('multifunction')
    return ','.join(tags)


def controllers(xml):
    return set(re.findall(r"<controller type=['\"]([^'\"]+)['\"] index=['\"](\d+)['\"]", xml))


def main(src, dest, version):
    tests = os.path.join(src, 'tests')
    if os.path.exists(os.path.join(tests, 'qemuxmlconftest.c')):
        program, indir, outdir, inactive_variant = 'qemuxmlconftest.c', 'qemuxmlconfdata', 'qemuxmlconfdata', False
    else:
        program, indir, outdir, inactive_variant = 'qemuxml2xmltest.c', 'qemuxml2argvdata', 'qemuxml2xmloutdata', True
    rank = {'latest': 0, 'fake': 1}
    chosen = {}
    for call in test_calls(os.path.join(tests, program)):
        if call['when'] == 'WHEN_ACTIVE':
            continue
        arch, ver, fake, other = parse_va(call['va'])
        if any(o.startswith('ARG_FLAGS=') and 'FLAG_EXPECT_PARSE_ERROR' in o for o in other):
            continue
        if arch not in (None, 'x86_64', 'i686'):
            continue
        kind = 'fake' if ver is None else ('latest' if ver == 'latest' else 'ver:' + ver)
        name = call['name']
        infile = os.path.join(indir, name + '.xml')
        candidates = []
        if inactive_variant:
            candidates.append(os.path.join(outdir, f"{name}-inactive{call['suffix']}.xml"))
        candidates.append(os.path.join(outdir, f"{name}{call['suffix']}.xml"))
        outfile = next((c for c in candidates if os.path.exists(os.path.join(tests, c))), None)
        if outfile is None or not os.path.exists(os.path.join(tests, infile)):
            continue
        entry = dict(name=name, kind=kind, fake=fake, other=other, infile=infile, outfile=outfile,
                     macro=call['macro_args'], suffix=call['suffix'])
        prev = chosen.get(name)
        if prev is None or rank.get(kind, 2) < rank.get(prev['kind'], 2):
            chosen[name] = entry
    os.makedirs(dest, exist_ok=True)
    manifest = ['case\tarch\tmachine\tmachine_attr\tpci_addr_out\tpci_addr_in\tauto_controllers\tauto_pci_controllers\tcaps\tfeatures']
    caps = ['case\ttest_suffix\tqemu_caps\tfake_caps_flags\textra_test_args\tlibvirt_input_file\tlibvirt_output_file']
    for name in sorted(chosen):
        e = chosen[name]
        out_xml = open(os.path.join(tests, e['outfile']), encoding='utf-8').read()
        in_xml = open(os.path.join(tests, e['infile']), encoding='utf-8').read()
        arch, machine = domain_facts(out_xml)
        if arch not in ('x86_64', 'i686') or "<address type='pci'" not in out_xml:
            continue
        case = name if not e['kind'].startswith('ver:') else f"{name}@{e['kind'][4:]}"
        shutil.copyfile(os.path.join(tests, e['infile']), os.path.join(dest, case + '.in.xml'))
        shutil.copyfile(os.path.join(tests, e['outfile']), os.path.join(dest, case + '.out.xml'))
        auto = controllers(out_xml) - controllers(in_xml)
        manifest.append('\t'.join([case, arch, machine_kind(machine), machine,
                                   str(out_xml.count("<address type='pci'")), str(in_xml.count("<address type='pci'")),
                                   str(len(auto)), str(sum(1 for t, _ in auto if t == 'pci')),
                                   e['kind'].replace('ver:', 'ver:'), features(out_xml)]))
        caps.append('\t'.join([case, e['suffix'], e['kind'], ','.join(e['fake']), ' '.join(e['other']),
                               f"tests/{e['infile']}", f"tests/{e['outfile']}"]))
    with open(os.path.join(dest, 'MANIFEST.tsv'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(manifest) + '\n')
    with open(os.path.join(dest, 'CAPS.tsv'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(caps) + '\n')
    print(f'libvirt {version}: {len(manifest) - 1} x86 pairs with PCI addresses from tests/{program}', file=sys.stderr)


if __name__ == '__main__':
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
