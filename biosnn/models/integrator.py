"""Non-leaky integrator (NIR's ``I``): a non-spiking readout.

``dv/dt = I(t)`` with the synapse variants and the constant input ``bias`` of
:mod:`biosnn.models.if_neuron` (delta: ``v += w`` per presynaptic spike,
``dv/dt = bias``; current: ``tau_s dI/dt = bias - I``, ``I += w``; held:
``dv/dt = X + bias``, ``X`` constant over each step), but no
threshold and no reset: the integrate-and-fire neuron without its spike, as
:mod:`biosnn.models.li` is the LIF without its spike. ``v`` starts at
``v_rest`` and nothing returns it there. The layer's output is its membrane
potential (read after the last step when it is a network's readout).

Exact propagators over one step (no leak; ``b = bias``): delta ``v' = v + b dt``;
held ``v' = v + (X + b) dt``; current ``v' = v + b dt + (I - b) tau_s (1 - e^{-dt/tau_s})``,
``I' = b + (I - b) e^{-dt/tau_s}`` (``biosnn/models/if_neuron.py``). Forward Euler
coincides with them for delta and held input.

Reference: Pedersen et al. (2024), "Neuromorphic intermediate representation",
Nat. Commun. 15:8122 (the ``I`` node, ``dv/dt = R I``; ``R`` folds into the
weights).

Torch mirror: ``biosnn/torch/dynamics/integrator.py``; tests:
``tests/brian_vs_torch/test_integrator.py``.
"""

from biosnn.core.spec import ModelSpec, Output

from . import if_neuron

_NAMES = ("v_rest", "bias", "bias_onset", "tau_s")

SPEC = ModelSpec(
    name="integrator",
    title="Non-leaky integrator (non-spiking readout)",
    citation="NIR 'I' node (Pedersen et al. 2024, Nat. Commun. 15:8122); the IF neuron without threshold",
    membrane_equation=if_neuron.SPEC.membrane_equation,
    threshold=None,
    resets={"none": ""},
    synapses=if_neuron.SYNAPSES,
    parameters=tuple(p for p in if_neuron.SPEC.parameters if p.name in _NAMES),
    refractory_parameter=None,
    initial_state={"v": "v_rest"},
    output=Output.MEMBRANE,
    constraints=(if_neuron.CONSTANT_INPUT.constraint(),),
    constant_input=if_neuron.CONSTANT_INPUT,
    validation_cases=({}, {"v_rest": 0.3, "tau_s": 2e-3, "bias_onset": 2e-3}),
)
