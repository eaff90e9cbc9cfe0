"""Leaky-integrator step: the torch mirror of ``equations/li.py``.

The membrane update is the LIF one (``biosnn/torch/functional/lif.py``: the
same exact or Euler propagator and synaptic arrival in the schedule's slot),
with no threshold, no reset and no refractoriness::

    u' = u e^{-r} (+ current-synapse coupling),  then  v += w_in  (delta)  |  I += w_in  (current)
"""

from __future__ import annotations

from .lif import LIFConfig, LIFParams, LIFState, _arrive, _integrate, propagator


def li_step(drive, state: LIFState, params: LIFParams, config: LIFConfig, prop=None) -> LIFState:
    """Advance one step; returns the new state (``state.v`` is the readout)."""
    if prop is None:
        prop = propagator(params, config, dtype=state.v.dtype, device=state.v.device)
    v, i_syn = _integrate(state, drive, params, config, prop)
    v, i_syn = _arrive(v, i_syn, drive, None, config)
    return LIFState(v, state.steps_since_spike, i_syn)
