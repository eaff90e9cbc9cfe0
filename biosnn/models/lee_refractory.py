"""LIF with dynamic-weight refractoriness (Lee, Delbruck & Pfeiffer 2016).

Lee, Delbruck, Pfeiffer, "Training deep spiking neural networks using
backpropagation", Front. Neurosci. 10:508 (2016), section 2.1.

Between events ``tau_mp dv/dt = -v``. An input spike of weight w arriving at t
adds ``w_dyn(t) w`` with

    w_dyn = min(1, ((t - t_r) / T_ref)^2)

where t_r is the neuron's latest refractory trigger (its own spike, or a
lateral inhibition it received: see ``biosnn/models/wta.py``). Spike when
``v >= V_th_i`` (a threshold per neuron); reset by subtraction
``v -= V_th_i``; lower bound ``v >= -V_th_i`` applied after every update that
can lower v (each slot of arrivals, the lateral inhibition of a WTA circuit,
the reset).
All inputs arriving at one instant are summed before the bound is applied.

Torch mirror: ``biosnn/torch/dynamics/lee_refractory.py``; equivalence tests:
``tests/brian_vs_torch/test_lee_refractory.py``.
"""

from biosnn.core.spec import ModelSpec, SynapseSpec, scalar_parameter, time_constant, time_parameter

SPEC = ModelSpec(
    name="lee_refractory",
    title="LIF with dynamic-weight refractoriness",
    citation="Lee, Delbruck & Pfeiffer (2016), Front. Neurosci. 10:508",
    membrane_equation="dv/dt = -v / tau_mp : 1\nv_th : 1 (constant)\nt_r : second",
    threshold="v >= v_th",
    resets={"subtract": "v -= v_th\nt_r = t"},
    synapses={
        "delta": SynapseSpec(
            name="delta",
            description="v += w * min(1, ((t - t_r)/T_ref)^2) per presynaptic spike",
            drive="",
            on_pre="v_post += w * clip((t - t_r_post) / T_ref, 0, 1)**2",
            parameters=("T_ref",),
        ),
    },
    parameters=(
        time_constant("tau_mp", "membrane time constant", 20e-3, validation_range=(5e-3, 40e-3)),
        time_parameter("T_ref", "refractory time scale of the dynamic weight", 1e-3, lower=0.0, lower_inclusive=False),
        scalar_parameter(
            "v_th",
            "firing threshold of each neuron",
            1.0,
            lower=0.0,
            lower_inclusive=False,
            per_neuron=True,
            validation_range=(0.6, 1.4),
        ),
    ),
    refractory_parameter=None,
    floor="v = clip(v, -v_th, inf)",
    #: t_r = -1e4 s: "never triggered", Brian2's convention for lastspike
    initial_state={"v": 0.0, "t_r": -1e4},
    discretizations=("exact",),
    validation_cases=({"T_ref": 1e-3}, {"T_ref": 4e-3}),
)
