"""What every torch layer module shares: binding to its spec, and the time loop."""

from __future__ import annotations

from typing import Mapping

import torch

from ...equations import get_spec
from ...units import positive_time


def bind_spec(module, *, dt, params: Mapping | None, synapse: str, reset: str | None) -> None:
    """Set ``module.spec``, ``module.dt`` (s) and ``module.parameters_si`` (the spec's
    parameters with ``params`` applied, SI floats), and check ``synapse`` and ``reset``
    (``None``: the model has no reset) against the spec of ``module.model_name``."""
    module.spec = get_spec(module.model_name)
    module.dt = positive_time(dt, "dt")
    module.parameters_si = module.spec.resolve(params, module.dt)
    module.spec.synapse(synapse)
    if reset is not None:
        module.spec.check_reset(reset)


def run_steps(step, drive: torch.Tensor, state, *, record: bool):
    """Apply ``step(x, state) -> (output, state)`` along time; shared by the LIF-family modules.

    Returns the stacked outputs ``[T, ...]``, or with ``record`` also a dict of
    ``"v"`` (and ``"I"`` when the state has a synaptic current) recorded at the
    start of each step (Brian2's ``start`` slot), and the final state.
    """
    outputs, v_seq, i_seq = [], [], []
    for x in drive:
        if record:
            v_seq.append(state.v)
            if getattr(state, "i_syn", None) is not None:
                i_seq.append(state.i_syn)
        out, state = step(x, state)
        outputs.append(out)
    stacked = torch.stack(outputs)
    if not record:
        return stacked
    recorded = {"v": torch.stack(v_seq)}
    if i_seq:
        recorded["I"] = torch.stack(i_seq)
    return stacked, recorded, state
