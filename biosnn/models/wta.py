"""Winner-take-all circuits of dynamic-weight refractory LIF neurons (Lee et al. 2016).

Lee, Delbruck, Pfeiffer (2016), Front. Neurosci. 10:508, section 2.3.1.

The neurons are :mod:`biosnn.models.lee_refractory` (nothing restated). A
layer is split into circuits of ``circuit_size`` neurons (0: the whole layer).
When neuron j of a circuit fires at t, every other neuron i of it receives

    v_i += sigma * mu * V_th_i,   v_i >= -V_th_i,   t_r,i = t

with uniform lateral strength mu in [-1, 0] and effectiveness sigma (the paper
reports mu = -0.4 in hidden and -1.0 in output layers, sigma ~ 0.5). The
inhibition is simultaneous with the spike that causes it: in Brian2 the lateral
pathway runs in the ``synapses`` slot of the spike's own step (after the
threshold test, before the reset), which is the spike's physical instant under
biosnn's labelling (``biosnn/core/schedule.py``). Neurons crossing threshold in the
same step all fire and each inhibits the others; since every lateral increment
is <= 0, the order in which they are applied does not matter. With mu = 0 the
circuit has no connections at all (it neither inhibits nor triggers
refractoriness), so the layer is exactly independent ``lee_refractory`` neurons.

Torch mirror: ``biosnn/torch/dynamics/wta.py``; tests:
``tests/brian_vs_torch/test_wta.py``.
"""

from biosnn.core.spec import LateralSpec, scalar_parameter

from . import lee_refractory

SPEC = lee_refractory.SPEC.derive(
    name="wta",
    title="Winner-take-all circuit of dynamic-weight refractory LIF neurons",
    parameters=lee_refractory.SPEC.parameters
    + (
        scalar_parameter("mu", "uniform lateral strength", -0.4, lower=-1.0, upper=0.0),
        scalar_parameter("sigma", "effectiveness of lateral inhibition", 0.5, lower=0.0, lower_inclusive=False),
        scalar_parameter("circuit_size", "neurons per circuit (0: the whole layer)", 0.0, lower=0.0),
    ),
    lateral=LateralSpec(
        description="v_i += sigma * mu * V_th_i and t_r,i = t for every other neuron i of the circuit",
        on_pre="v_post += sigma * mu * v_th_post\nt_r_post = t",
        parameters=("mu", "sigma"),
        active=lambda p: p["mu"] * p["sigma"] != 0,
    ),
    validation_cases=(
        {"mu": -0.4, "T_ref": 1e-3},
        {"mu": -1.0, "sigma": 1.0, "T_ref": 1e-5},
        {"mu": -1.0, "T_ref": 3e-3, "circuit_size": 2.0},
    ),
)
