"""Parametric LIF (PLIF): LIF with a learnable membrane time constant.

Fang, Yu, Chen, Masquelier, Huang & Tian (2021), "Incorporating learnable
membrane time constant to enhance learning of spiking neural networks", ICCV.

Same ODE, threshold, resets and synapses as :mod:`biosnn.models.lif`
(derived from it, nothing restated). The torch mirror learns one scalar ``a``
per layer (one per neuron when ``tau_m`` is given per neuron) with ``tau_m = dt / sigmoid(a)``; ``a`` is initialised at
``-ln(tau0/dt - 1)``, ``tau0 = 2 dt`` (so ``a = 0``), which is the default of
``tau_m`` below. Because ``sigmoid(a) < 1``, PLIF needs ``tau_m > dt``.

spikingjelly's ``ParametricLIFNode(decay_input=True)`` is the Euler
discretization: ``H = V + sigmoid(a) (X - (V - V_reset))``.

Torch mirror: ``biosnn/torch/dynamics/plif.py``; equivalence tests:
``tests/brian_vs_torch/test_plif.py``.
"""

from dataclasses import replace

from biosnn.core.spec import Constraint

from . import lif

_params = tuple(
    replace(p, default=None, default_steps=2.0, description="membrane time constant (init tau0 = 2 dt)")
    if p.name == "tau_m"
    else p
    for p in lif.SPEC.parameters
)

SPEC = lif.SPEC.derive(
    name="plif",
    title="Parametric leaky integrate-and-fire (learnable tau)",
    citation="Fang et al. (2021), ICCV: Incorporating learnable membrane time constant ...",
    parameters=_params,
    constraints=lif.SPEC.constraints + (Constraint("tau_m > dt", lambda p: p["tau_m"] > p["dt"]),),
)
