#!/usr/bin/env bash
# Writes the diagnostic code table into README.md between its codes:begin/codes:end markers, from
# the catalogue (src/LibvirtPci/Diagnostics.cs) through `libvirt-pci codes`. A test fails while the
# README and the catalogue differ; run this after changing the catalogue.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(dotnet run --project src/LibvirtPci.Cli -- codes)
TABLE=$table python3 - <<'PY'
import os, re
text = open("README.md", encoding="utf-8").read()
new, n = re.subn(r"(<!-- codes:begin[^\n]*-->\n).*?(<!-- codes:end -->)", lambda m: m.group(1) + os.environ["TABLE"] + "\n" + m.group(2), text, flags=re.S)
if n != 1:
    raise SystemExit("README.md: no codes:begin/codes:end section")
open("README.md", "w", encoding="utf-8").write(new)
PY
