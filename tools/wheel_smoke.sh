#!/usr/bin/env bash
# Builds biosnn's wheel, installs it (not editable) into a fresh virtual environment with the pinned
# dependencies, and runs what a user runs first: `biosnn --help`, `biosnn models`, `biosnn perturb --help`,
# an import of every module, and one `biosnn simulate` on each backend. Usage: tools/wheel_smoke.sh PYTHON
set -euo pipefail
python=${1:?usage: tools/wheel_smoke.sh PYTHON}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# build from a copy of the tracked files: nothing left in build/ or untracked finds its way into the wheel,
# and the checkout gets no build/ or *.egg-info
mkdir "$work/source"
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work/source" 2>/dev/null || true)
"$python" -m pip wheel --quiet --no-deps --no-build-isolation -w "$work/dist" "$work/source"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet -c "$root/constraints.txt" "$work"/dist/biosnn-*.whl
cd "$work"          # nothing of the source tree on the path: the installed package alone
bin="$work/venv/bin"
"$bin/biosnn" --help > /dev/null
"$bin/biosnn" --version
"$bin/biosnn" models > /dev/null
"$bin/biosnn" perturb --help > /dev/null
"$bin/python" - <<'PY'
import importlib
import pkgutil

import biosnn

names = [m.name for m in pkgutil.walk_packages(biosnn.__path__, "biosnn.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
from biosnn.reporting.figures import FIGURES, STORED_RESULTS, missing_inputs

assert not [f.module for f in FIGURES if f.module != "fig_equivalence" and missing_inputs(f, [STORED_RESULTS])]
print(f"imported {len(names)} modules; stored results at {STORED_RESULTS}")
import numpy as np

from biosnn import SpikeTrains

SpikeTrains([0.001, 0.002], [0, 1], 2, 0.01).save("spikes.npz")
np.save("w.npy", np.full((2, 3), 0.6))
PY
# the README's Python tour, block by block, as a reader runs it against the installed package
"$bin/python" - "$root/README.md" <<'PY'
import re
import sys

blocks = re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), re.S)
assert blocks, "the README has no Python block"
for index, block in enumerate(blocks):
    exec(compile(block, f"README python block {index}", "exec"), {"__name__": "__readme__"})
print(f"README: {len(blocks)} Python blocks ran")
PY
for backend in torch brian2; do
    "$bin/biosnn" simulate lif --input spikes.npz --weights w.npy --dt 1e-4 --duration 0.01 --backend "$backend" \
        --out "trace_$backend.npz"
done
echo "wheel smoke test passed"
