"""Non-leaky integrate-and-fire neuron (IF; registered as ``if``).

Lapicque's (1907) perfect integrator, NIR's ``IF`` node (Pedersen et al. 2024:
``dv/dt = R I``, ``R`` folded into the weights). Continuous time (what Brian2
simulates), ``v`` dimensionless, the drive per second::

    dv/dt = I(t)

with input through delta synapses (``v += w`` per presynaptic spike),
current-based synapses (``tau_s dI/dt = -I``, ``I += w``; ``dv/dt = I``) or a
held drive ``X`` piecewise constant over each time step (``dv/dt = X``); a
constant input ``bias`` (per neuron, per second) enters with the synapse's
input (``dv/dt = bias + ...``; current: ``tau_s dI/dt = bias - I``). Spike
when ``v >= v_th`` (LIF's convention); reset hard (``v = v_reset``) or by
subtraction of the distance from reset to threshold (``v -= v_th - v_reset``).
``v`` starts at ``v_rest``. No leak, no refractory period, no lower bound on ``v``
(inhibition accumulates). The threshold is tested once per step: at most one spike
per step (a subtractive reset carries a jump of several thresholds over the next steps).

Exact propagators over one step ``dt`` (no leak, so no membrane time constant)::

    delta:    v' = v + b dt                (then v += w per arriving spike)
    held:     v' = v + (X + b) dt          (the exact integral of a held drive)
    current:  v' = v + b dt + (I - b) tau_s (1 - e^{-dt/tau_s}),   I' = b + (I - b) e^{-dt/tau_s}

with ``b = bias``. Forward Euler: ``v' = v + (X + b) dt`` (held), ``v' = v + b dt`` (delta): for a
non-leaky integrator with delta or held input Euler is exact, the two discretizations
coincide; with current synapses Euler steps ``v' = v + I dt``, ``I' = I + (b - I) dt/tau_s``.

References: L. Lapicque (1907), J. Physiol. Pathol. Gen. 9:620; Pedersen et al.
(2024), "Neuromorphic intermediate representation", Nat. Commun. 15:8122 (``IF``).

Torch mirror: ``biosnn/torch/dynamics/if_neuron.py``; tests:
``tests/brian_vs_torch/test_if_neuron.py``.
"""

from dataclasses import replace

from biosnn.core.spec import ModelSpec, SynapseSpec, scalar_parameter

from . import lif

#: the constant input (``bias``, ``bias_onset``) of the LIF family; here per second
CONSTANT_INPUT = lif.CONSTANT_INPUT

SYNAPSES = {
    "delta": SynapseSpec(
        name="delta",
        description="instantaneous jump v += w per presynaptic spike",
        drive=" + bias",
        on_pre="v_post += w",
    ),
    # the LIF's current and held synapses (the same equations: lif.py), with the non-leaky membrane's reading
    "current": replace(
        lif.SYNAPSES["current"],
        description="exponential current synapse: tau_s dI/dt = bias - I, I += w per spike, dv/dt = I",
        # a spike of weight w deposits w tau_s in all: about 5e-3 w at tau_s = 5 ms
        validation_weights=(-200.0, 600.0),
    ),
    "held": replace(
        lif.SYNAPSES["held"],
        description="direct drive X = x @ W (per second), held constant over each step: v += X dt",
        validation_weights=(-100.0, 600.0),
    ),
}

SPEC = ModelSpec(
    name="if",
    title="Non-leaky integrate-and-fire",
    citation="Lapicque (1907), J. Physiol. Pathol. Gen. 9:620; NIR 'IF' node (Pedersen et al. 2024)",
    # the drive is per second (v is dimensionless): dv/dt = X
    membrane_equation="dv/dt = (0{drive}) / second : 1",
    threshold="v >= v_th",
    resets=lif.SPEC.resets,
    synapses=SYNAPSES,
    parameters=(
        lif.SPEC.parameter("v_th"),
        lif.SPEC.parameter("v_reset"),
        scalar_parameter("v_rest", "initial potential (no leak: nothing returns v to it)", 0.0, per_neuron=True),
        *CONSTANT_INPUT.parameters(
            "constant input per second (dv/dt = bias + ...), entering with the synapse's input",
            validation_range=(-5.0, 10.0),
        ),
        lif.SPEC.parameter("tau_s"),
    ),
    constraints=lif.SPEC.constraints,  # v_th > v_reset; bias_onset in whole steps
    constant_input=CONSTANT_INPUT,
    refractory_parameter=None,
    initial_state={"v": "v_rest"},
    validation_cases=({}, {"v_rest": 0.3, "v_reset": -0.2, "tau_s": 2e-3, "bias_onset": 2e-3}),
)
