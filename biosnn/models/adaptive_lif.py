"""Adaptive LIF (ALIF): a LIF neuron whose threshold rises with every spike.

Bellec, Salaj, Subramoney, Legenstein & Maass (2018), "Long short-term memory
and learning-to-learn in networks of spiking neurons", NeurIPS (the LSNN's
adaptive neurons); the most used neuron in SHD results after the LIF.

Continuous time (what Brian2 simulates)::

    tau_m dv/dt = (v_rest - v) + I(t)          (as biosnn.models.lif)
    tau_a da/dt = -a

Spike when ``v >= v_th + beta a``; then ``a += 1`` and the membrane resets:

* ``hard``: ``v = v_reset``;
* ``subtract``: the LIF's, the *baseline* distance ``v -= v_th - v_reset`` (spikingjelly's and snntorch's
  adaptive neurons);
* ``subtract_adaptive``: Bellec et al.'s LSNN reset, the *adaptive* threshold the neuron crossed,
  ``v -= v_th + beta a - v_reset`` (``z A_t`` in the paper, where ``v_reset = 0``), with ``a`` before
  its increment. After a spike with ``a > 0`` it leaves ``v`` lower than ``subtract`` by ``beta a``.

The adaptation variable is not clamped during the refractory period. With ``beta = 0`` the neuron is the
LIF exactly, and ``subtract_adaptive`` is ``subtract`` (tested).

Derived from the LIF spec: the membrane, synapses, resets' membrane part and
every LIF parameter are the LIF's, nothing restated.

Torch mirror: ``biosnn/torch/dynamics/adaptive_lif.py``; tests:
``tests/brian_vs_torch/test_adaptive_lif.py``.
"""

from biosnn.core.spec import scalar_parameter, time_constant

from . import lif

SPEC = lif.SPEC.derive(
    name="adaptive_lif",
    title="Adaptive leaky integrate-and-fire (threshold adaptation)",
    citation="Bellec, Salaj, Subramoney, Legenstein & Maass (2018), NeurIPS: LSNN",
    membrane_equation=lif.SPEC.membrane_equation + "\nda/dt = -a / tau_a : 1",
    threshold="v >= v_th + beta * a",
    threshold_distance="v - (v_th + beta * a)",
    resets={
        **{name: code + "\na += 1" for name, code in lif.SPEC.resets.items()},
        # Bellec et al.'s LSNN: subtract the adaptive threshold reached, A = v_th + beta a (before a grows)
        "subtract_adaptive": "v -= v_th + beta * a - v_reset\na += 1",
    },
    parameters=lif.SPEC.parameters
    + (
        time_constant("tau_a", "adaptation time constant", 200e-3, validation_range=(10e-3, 100e-3), per_neuron=True),
        scalar_parameter(
            "beta",
            "threshold increase per unit of adaptation (per spike)",
            0.2,
            lower=0.0,
            validation_range=(0.05, 0.5),
        ),
    ),
    initial_state={**lif.SPEC.initial_state, "a": 0.0},
    recorded=lif.SPEC.recorded + ("a",),
)
