"""Leaky integrator (LI): a non-spiking readout neuron.

``tau_m dv/dt = (v_rest - v) + I(t)`` with the same synapse variants (and
constant input ``bias``) as :mod:`biosnn.models.lif`, but no threshold and no reset. Used as the readout
of the temporal-shd ("SGD-delay") networks, read at the last step (Zenke &
Vogels 2021; Sun et al. 2023); NIR calls it ``LI``.

Torch mirror: ``biosnn/torch/dynamics/li.py``; tests:
``tests/brian_vs_torch/test_li.py``.
"""

from biosnn.core.spec import MembraneNoiseSpec, ModelSpec, Output, SynapseSpec

from . import lif

_NAMES = ("tau_m", "v_rest", "bias", "bias_onset", "tau_s")

SPEC = ModelSpec(
    name="li",
    title="Leaky integrator (non-spiking readout)",
    citation="Zenke & Vogels (2021), Neural Comput. 33:899; NIR 'LI' node (Pedersen et al. 2024)",
    membrane_equation="dv/dt = (v_rest - v{drive}) / tau_m : 1",
    threshold=None,
    resets={"none": ""},
    synapses={
        "delta": SynapseSpec(
            name="delta", description="v += w per presynaptic spike", drive=" + bias", on_pre="v_post += w"
        ),
        "current": lif.SYNAPSES["current"],
    },
    parameters=tuple(p for p in lif.SPEC.parameters if p.name in _NAMES),
    refractory_parameter=None,
    initial_state={"v": "v_rest"},
    output=Output.MEMBRANE,
    constraints=(lif.CONSTANT_INPUT.constraint(),),
    constant_input=lif.CONSTANT_INPUT,
    validation_cases=({},),
    membrane_noise=MembraneNoiseSpec("v", "tau_m"),
)
