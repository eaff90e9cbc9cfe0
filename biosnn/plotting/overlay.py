"""Overlay figure of a Brian2 trace and its torch mirror (PNG + PDF).

Three panels: membrane potential of a few neurons from both backends (solid
Brian2, dashed torch), both rasters (Brian2 dots, torch rings), and
``|v_brian2 - v_torch|`` on a log axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compare import V_TOLERANCE
from .save import save_figure


def plot_equivalence(reference, mirror, stem, *, title: str = "", n_neurons: int = 3) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = Path(stem)
    v_ref = reference.v[:, 0] if reference.v.ndim == 3 else reference.v
    v_mir = mirror.v[:, 0] if mirror.v.ndim == 3 else mirror.v
    t_ms = reference.t * 1e3
    shown = min(n_neurons, v_ref.shape[1])
    fig, axes = plt.subplots(3, 1, figsize=(7.0, 7.0), sharex=True,
                             gridspec_kw=dict(height_ratios=[2.2, 1.2, 1.2]))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j in range(shown):
        axes[0].plot(t_ms, v_ref[:, j], color=colors[j % len(colors)], lw=1.2, label=f"neuron {j} Brian2")
        axes[0].plot(t_ms, v_mir[:, j], color="k", lw=0.8, ls="--", label="torch" if j == 0 else None)
    axes[0].set_ylabel("v (dimensionless)")
    axes[0].legend(fontsize=7, ncol=2, loc="upper right")
    for trace, marker, face, label in ((reference, "o", None, "Brian2"), (mirror, "o", "none", "torch")):
        sel = trace.spike_samples == 0
        axes[1].scatter(trace.spike_times[sel] * 1e3, trace.spike_units[sel], s=22 if face else 10, marker=marker,
                        facecolors=face, edgecolors="k" if face else None, label=label, lw=0.8)
    axes[1].set_ylabel("neuron")
    axes[1].legend(fontsize=7, loc="upper right")
    diff = np.abs(v_ref - v_mir).max(axis=1)
    axes[2].semilogy(t_ms, np.maximum(diff, 1e-18), color="C3", lw=1)
    axes[2].axhline(V_TOLERANCE, color="grey", ls=":", lw=1, label=f"contract {V_TOLERANCE:g}")
    axes[2].set_ylim(1e-18, 1e-6)
    axes[2].set_ylabel("max |dv|")
    axes[2].set_xlabel("time (ms)")
    axes[2].legend(fontsize=7, loc="upper right")
    fig.suptitle(title or "Brian2 reference vs torch mirror", fontsize=10)
    fig.tight_layout()
    written = save_figure(fig, stem)
    plt.close(fig)
    return written
