"""Overlay figure of a Brian2 trace and its torch mirror (PDF + 300 dpi PNG).

Three panels: membrane potential of a few neurons from both backends (solid
Brian2, dashed torch), both rasters (Brian2 dots, torch rings), and
``max_j |v_brian2 - v_torch|`` on a log axis against the contract's tolerance;
a non-spiking model (``spiking=False``: ``li``, ``integrator``) has no raster panel.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..equivalence.contract import V_TOLERANCE
from .save import save_figure
from .style import BACKEND_COLOURS, colour, new_figure, style

if TYPE_CHECKING:
    from biosnn.core.trace import Trace

#: floor of the log axis of |dv| (identical values would have no place on it)
DV_FLOOR = 1e-18


def plot_equivalence(
    reference: Trace, mirror: Trace, stem: Path | str, *, title: str = "", n_neurons: int = 3, spiking: bool = True
) -> list[Path]:
    """Draw sample 0 of ``reference`` (Brian2) against ``mirror`` (torch); returns the files written."""
    v_ref = reference.v[:, 0] if reference.v.ndim == 3 else reference.v
    v_mir = mirror.v[:, 0] if mirror.v.ndim == 3 else mirror.v
    t_ms = reference.t * 1e3
    shown = min(n_neurons, v_ref.shape[1])
    with style() as plt:
        ratios = [2.2, 1.2, 1.2] if spiking else [2.2, 1.2]
        fig, axes = new_figure(
            plt,
            width="double",
            height=4.6 if spiking else 3.6,
            nrows=len(ratios),
            sharex=True,
            gridspec_kw=dict(height_ratios=ratios),
        )
        if not spiking:
            axes = [axes[0], None, axes[1]]
        for j in range(shown):
            axes[0].plot(t_ms, v_ref[:, j], color=colour(j), lw=1.2, label=f"neuron {j}, Brian2")
            axes[0].plot(t_ms, v_mir[:, j], color="k", lw=0.7, ls="--", label="torch mirror" if j == 0 else None)
        axes[0].set_ylabel("v (model units)")
        axes[0].legend(ncol=4, loc="upper right" if spiking else "best")
        if spiking:
            for trace, backend, hollow in ((reference, "brian2", False), (mirror, "torch", True)):
                sel = trace.spike_samples == 0
                axes[1].scatter(
                    trace.spike_times[sel] * 1e3,
                    trace.spike_units[sel],
                    s=18 if hollow else 6,
                    facecolors="none" if hollow else BACKEND_COLOURS[backend],
                    edgecolors=BACKEND_COLOURS[backend],
                    lw=0.7,
                    label="torch mirror" if hollow else "Brian2",
                )
            axes[1].set_ylabel("neuron")
            axes[1].legend(loc="upper right", ncol=2)
        diff = np.abs(v_ref - v_mir).max(axis=1)
        axes[2].semilogy(t_ms, np.maximum(diff, DV_FLOOR), color=BACKEND_COLOURS["torch"])
        axes[2].axhline(V_TOLERANCE, color="0.5", ls=":", label=f"contract {V_TOLERANCE:g}")
        axes[2].set_ylim(DV_FLOOR, max(1e-6, 10 * float(diff.max(initial=0.0))))  # a failure stays in view
        axes[2].set_ylabel("max |dv|")
        axes[2].set_xlabel("time (ms)")
        axes[2].legend(loc="upper right")
        fig.suptitle(title or "Brian2 reference vs torch mirror")
        return save_figure(fig, stem)
