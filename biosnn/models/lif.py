"""Leaky integrate-and-fire neuron (LIF).

Continuous time (what Brian2 simulates)::

    tau_m dv/dt = (v_rest - v) + I(t)

with input through delta synapses (``v += w`` per presynaptic spike),
current-based synapses (``tau_s dI/dt = -I``, ``I += w``) or a held drive that
is piecewise constant over each time step. A constant input ``bias`` (per
neuron; the bias of a trained network's linear map) enters
where the synapse's input enters: ``tau_m dv/dt = (v_rest - v) + bias + ...``
(delta, held) or ``tau_s dI/dt = bias - I`` (``current``: filtered by tau_s, as a
framework's bias added to the synaptic input is; *not* NEST's ``I_e``), or into
the membrane beside a current synapse (``current_membrane_bias``:
``tau_m dv/dt = (v_rest - v) + bias + I``, ``tau_s dI/dt = -I``: NEST's
``iaf_psc_exp`` with ``I_e``); either way it moves the
equilibrium to ``v_rest + bias`` (``v`` still starts at ``v_rest``). It is on
from ``bias_onset`` (0 by default; whole steps). Spike when ``v >= v_th``; reset hard
(``v = v_reset``) or by subtraction of the distance from reset to threshold
(``v -= v_th - v_reset``: ``v -= v_th`` in the papers' units, where
v_reset = 0; with physiological units, v_rest = v_reset = -70 and
v_th = -50, a spike removes 20, not 50); optional absolute refractory
period ``t_ref`` during which ``v`` is clamped and delta inputs are discarded
(NEST ``iaf_psc_delta`` semantics; current synapses keep integrating).

Reference: Gerstner, Kistler, Naud, Paninski, *Neuronal Dynamics* (2014), ch. 1.3.

Torch mirror: ``biosnn/torch/dynamics/lif.py``; equivalence tests:
``tests/brian_vs_torch/test_lif.py``.
"""

from biosnn.core.spec import (
    ConstantInput,
    Constraint,
    MembraneNoiseSpec,
    ModelSpec,
    SynapseSpec,
    scalar_parameter,
    time_constant,
    time_parameter,
)

#: the constant input of the LIF family (and of the models derived from it)
CONSTANT_INPUT = ConstantInput()

SYNAPSES = {
    "delta": SynapseSpec(
        name="delta",
        description="instantaneous jump v += w per presynaptic spike (discarded while refractory)",
        drive=" + bias",
        on_pre="v_post += w * not_refractory_post",
    ),
    "current": SynapseSpec(
        name="current",
        description="exponential current synapse: tau_s dI/dt = bias - I, I += w per spike",
        drive=" + I",
        equations="dI/dt = (bias - I) / tau_s : 1",
        on_pre="I_post += w",
        parameters=("tau_s",),
        state_variables=("I",),
        validation_weights=(-1.0, 3.0),
        bias_through_synapse=True,
    ),
    "current_membrane_bias": SynapseSpec(
        name="current_membrane_bias",
        description=(
            "exponential current synapse, the constant input into the membrane as NEST's iaf_psc_exp I_e: "
            "tau_m dv/dt = v_rest - v + bias + I, tau_s dI/dt = -I, I += w per spike"
        ),
        drive=" + I + bias",
        equations="dI/dt = -I / tau_s : 1",
        on_pre="I_post += w",
        parameters=("tau_s",),
        state_variables=("I",),
        validation_weights=(-1.0, 3.0),
    ),
    "held": SynapseSpec(
        name="held",
        description="direct drive X = x @ W, held constant over each time step",
        drive=" + I_held + bias",
        equations="I_held = held_drive(t, i) : 1",
        validation_weights=(-0.1, 0.6),
    ),
}

SPEC = ModelSpec(
    name="lif",
    title="Leaky integrate-and-fire",
    citation="Gerstner, Kistler, Naud & Paninski (2014), Neuronal Dynamics, ch. 1.3",
    membrane_equation="dv/dt = (v_rest - v{drive}) / tau_m : 1 (unless refractory)",
    threshold="v >= v_th",
    resets={"hard": "v = v_reset", "subtract": "v -= v_th - v_reset"},
    synapses=SYNAPSES,
    parameters=(
        time_constant("tau_m", "membrane time constant", 20e-3, validation_range=(5e-3, 40e-3), per_neuron=True),
        scalar_parameter("v_th", "firing threshold", 1.0, per_neuron=True),
        scalar_parameter("v_reset", "reset potential (hard reset)", 0.0, per_neuron=True),
        scalar_parameter("v_rest", "resting potential (also the initial potential)", 0.0, per_neuron=True),
        *CONSTANT_INPUT.parameters(
            "constant input (units of v: the shift of the equilibrium it causes), entering with the synapse's input",
            validation_range=(-0.2, 0.4),
        ),
        time_parameter("t_ref", "absolute refractory period", 0.0, lower=0.0),
        time_constant(
            "tau_s",
            "synaptic current time constant (current synapses)",
            5e-3,
            validation_range=(1e-3, 10e-3),
            per_neuron=True,
        ),
    ),
    constraints=(Constraint("v_th > v_reset", lambda p: p["v_th"] > p["v_reset"]), CONSTANT_INPUT.constraint()),
    constant_input=CONSTANT_INPUT,
    initial_state={"v": "v_rest"},
    membrane_noise=MembraneNoiseSpec("v", "tau_m"),
    threshold_distance="v - v_th",
    #: the last: tau_s 1.1e-4 (relative) from tau_m, where a symbolic closed form loses digits
    #: the second: the bias switching on after 3 ms (Brian2's TimedArray gate against the mirror's step index)
    validation_cases=(
        {"t_ref": 0.0},
        {"t_ref": 2e-3, "bias_onset": 3e-3},
        {"t_ref": 1e-3, "tau_m": 10e-3, "tau_s": 10e-3 * (1 + 1.1e-4)},
    ),
)
