"""Axonal delays: one delay per neuron on all its outgoing spikes (a connection property).

Sun, Yu, ... (2022/2023, "learnable axonal delay"); the temporal-shd study's
"SGD-delay" (Yu, Sun & Goodman 2025). Each presynaptic neuron i has one delay
``d_i >= 0``: a spike labelled at step n reaches the next layer at step
``n + 1 + k_i`` (the one-step synaptic latency of ``biosnn/core/schedule.py`` plus
``k_i`` whole steps). Per-synapse delays ``d_ij`` are an option.

Grid: a delay is ``k = timestep(d, dt)`` whole steps (``biosnn/core/schedule.py``:
the one rounding rule of every time quantity); every exported delay is a whole
number of steps, which Brian2 keeps as it is, so both backends use the same k.
The torch mirror learns ``d`` in units of steps (``biosnn/torch/delay.py``):
forward by ``floor(d)`` (SLAYER / lava-dl), gradient
``dL/dd = -sum_t g[t] (y[t] - y[t-1])`` (per step), clamped to ``[0, d_max]``
after each update; or, as an option, a fractional delay interpolating linearly
between ``floor(d)`` and ``floor(d) + 1``, which Brian2 cannot represent: its
export rounds to the nearest step (``validation/delay_rounding.py`` measures the
effect on accuracy).

This is not a neuron model, so it is not in the model registry; it is read by
``biosnn/models/network.py`` (validation), ``biosnn/brian/components.py`` and
``biosnn/torch/delay.py``.
"""

from biosnn.core.spec import time_parameter

DELAY = time_parameter("delay", "axonal delay of a presynaptic neuron", 0.0, lower=0.0)
MAX_DELAY = time_parameter("d_max", "largest learnable delay", 25e-3, lower=0.0)
CITATION = (
    "Sun et al. (2023), ICASSP, 'Learnable axonal delay in spiking neural networks improves spoken word "
    "recognition'; Yu, Sun & Goodman (2025), temporal-shd"
)
