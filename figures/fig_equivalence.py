"""Regenerate the equivalence overlay figures from a validation results folder.

Reads ``<results>/traces/<model>_brian2.npz`` and ``<model>_torch.npz`` (written
by ``biosnn validate``); writes ``<out>/overlay_<model>.pdf`` and ``.png``.
No simulation happens here.

Usage: python figures/fig_equivalence.py --results demo-report --out figures/out
"""

import argparse
from pathlib import Path

from biosnn.plotting.overlay import plot_equivalence
from biosnn.trace import Trace


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    traces = Path(args.results) / "traces"
    found = sorted(traces.glob("*_brian2.npz"))
    if not found:
        parser.error(f"no *_brian2.npz traces under {traces}")
    for ref_path in found:
        model = ref_path.name[: -len("_brian2.npz")]
        ref, mirror = Trace.load(ref_path), Trace.load(traces / f"{model}_torch.npz")
        for path in plot_equivalence(ref, mirror, Path(args.out) / f"overlay_{model}", title=model):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
