"""The fused time loop (biosnn/torch/fused.py) against the reference loop of step phases.

Outputs must be identical in float64 (the fused forward computes the same floats); gradients
agree to rounding (the adjoint sums in another order) and, where the model is smooth (the
leaky integrator), agree with finite differences (torch.autograd.gradcheck).
"""

import math

import numpy as np
import pytest
import torch

from biosnn.models.network import LayerSpec
from biosnn.torch.fused import LeakyRecurrence
from biosnn.torch.layer import Layer
from biosnn.torch.network import FeedForward
from biosnn.torch.surrogate import Surrogate

#: float64 gradients of the fused adjoint vs autograd through the phases, relative to the largest
#: entry: both are exact up to rounding, summed in different orders over <= 80 steps
GRADIENT_RTOL_FLOAT64 = 1e-11
#: the same in float32 (single-precision rounding, 80 steps of accumulation)
GRADIENT_RTOL_FLOAT32 = 1e-4

SIZES = (30, 25, 20, 4)


def _pair(
    models,
    *,
    discretization="exact",
    reset="hard",
    detach_reset=False,
    params=None,
    dtype=torch.float64,
    surrogate="fast_sigmoid",
    seed=0,
):
    """The same network twice: fused (as users run it) and through the phases."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 2.5 / math.sqrt(a), (a, b)) for a, b in zip(SIZES[:-1], SIZES[1:])]
    layers = []
    for model, n in zip(models, SIZES[1:]):
        p = {k: v for k, v in (params or {}).items() if model != "li" or k in ("tau_m", "v_rest")}
        layers.append(LayerSpec(model, n, p, reset=None if model == "li" else reset))
    nets = [
        FeedForward(
            SIZES[0],
            layers,
            dt=1e-3,
            weights=weights,
            discretization=discretization,
            detach_reset=detach_reset,
            surrogate=surrogate,
            fused=fused,
        ).to(dtype)
        for fused in (True, False)
    ]
    x = torch.as_tensor(rng.random((80, 6, SIZES[0])) < 0.15, dtype=dtype)
    return nets, x


def _run(net, x):
    outputs = net(x)
    readout = torch.linspace(-1.0, 1.0, outputs[-1].shape[-1], dtype=x.dtype)
    loss = sum(
        (out * readout[: out.shape[-1]] if out.shape[-1] == readout.shape[0] else out).sum() * (k + 1)
        for k, out in enumerate(outputs)
    )
    net.zero_grad()
    loss.backward()
    return [o.detach() for o in outputs], {name: p.grad.clone() for name, p in net.named_parameters()}


CASES = [
    (("lif", "lif", "li"), "exact", "hard", False, {}),
    (("lif", "lif", "li"), "exact", "subtract", False, {"v_rest": 0.1, "v_reset": -0.2}),
    (("lif", "lif", "lif"), "euler", "hard", False, {"v_rest": -0.05, "v_reset": 0.1}),
    (("lif", "lif", "lif"), "euler", "subtract", True, {}),
    (("lif", "lif", "li"), "exact", "hard", True, {"tau_m": 8e-3, "v_th": 0.7}),
    (("plif", "plif", "li"), "exact", "hard", False, {"tau_m": 15e-3}),
    (("plif", "plif", "li"), "euler", "subtract", False, {"tau_m": 4e-3}),
    (("plif", "plif", "plif"), "euler", "hard", True, {"v_rest": 0.1}),
]


@pytest.mark.parametrize("models, discretization, reset, detach_reset, params", CASES)
def test_fused_loop_is_the_reference_loop_in_float64(models, discretization, reset, detach_reset, params):
    """Identical outputs (spikes and membranes); gradients of weights and PLIF's a to rounding."""
    (fused, phases), x = _pair(
        models, discretization=discretization, reset=reset, detach_reset=detach_reset, params=params
    )
    assert all(layer.fused_loop is not None for layer in fused.neurons)
    assert all(layer.fused_loop is None for layer in phases.neurons)
    out_f, grad_f = _run(fused, x)
    out_p, grad_p = _run(phases, x)
    assert sum(int(o.sum()) for o in out_p[:-1]) > 100  # spiking layers spiked: resets were exercised
    for a, b in zip(out_f, out_p):
        assert torch.equal(a, b)
    for name, g in grad_p.items():
        scale = float(g.abs().max())
        assert scale > 0, name
        assert float((grad_f[name] - g).abs().max()) <= GRADIENT_RTOL_FLOAT64 * scale, name


def test_fused_loop_in_float32_matches_the_reference_loop():
    """Same spikes, gradients within single-precision rounding, arctan surrogate."""
    (fused, phases), x = _pair(("plif", "lif", "li"), dtype=torch.float32, surrogate="arctan", seed=3)
    out_f, grad_f = _run(fused, x)
    out_p, grad_p = _run(phases, x)
    for a, b in zip(out_f, out_p):
        assert torch.equal(a, b)
    for name, g in grad_p.items():
        assert float((grad_f[name] - g).abs().max()) <= GRADIENT_RTOL_FLOAT32 * float(g.abs().max()), name


def test_fused_adjoint_of_the_leaky_integrator_is_the_true_derivative():
    """Without a threshold the recurrence is smooth: the written-out adjoint passes gradcheck
    (finite differences) for the drive, the decay e^{-r} (exact) and the rate r (euler)."""
    torch.manual_seed(0)
    for discretization, coefficient in (
        ("exact", torch.tensor(0.9, dtype=torch.float64)),
        ("euler", torch.linspace(0.05, 0.3, 5, dtype=torch.float64)),
    ):
        recurrence = LeakyRecurrence(discretization, 0.2, None, None, None, False, Surrogate())
        drive = torch.randn(7, 3, 5, dtype=torch.float64, requires_grad=True)
        v0 = torch.randn(3, 5, dtype=torch.float64)
        coefficient.requires_grad_(True)
        assert torch.autograd.gradcheck(lambda d, c: recurrence(d, c, v0), (drive, coefficient))


def test_fused_recurrence_against_a_hand_computed_neuron():
    """One neuron, exact LIF, hard reset to 0.1: h_n = 0.5 v_{n-1} + x_n, spike at h >= 1."""
    recurrence = LeakyRecurrence("exact", 0.0, 1.0, 0.1, "hard", False, Surrogate())
    drive = torch.tensor([0.6, 0.8, 0.0, 1.0], dtype=torch.float64).reshape(4, 1, 1)
    out = recurrence(drive, torch.tensor(0.5, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64))
    # h = 0.6; 0.3 + 0.8 = 1.1 -> spike, v = 0.1; 0.05; 0.025 + 1.0 = 1.025 -> spike
    assert out.flatten().tolist() == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(model="lif", params={"t_ref": 2e-3}),  # refractory clamp
        dict(model="lif", synapse="current"),  # synaptic current state
        dict(model="lif", schedule="brian2_default"),  # input after the threshold test
        dict(model="lee_refractory"),
        dict(model="adaptive_lif"),  # more state than v (its adaptation a)
        dict(model="gamma_cascade", params={"bucket_tau": (3e-3, 5e-3), "theta0": 0.05}),
        dict(model="lif", fused=False),
    ],
)
def test_configurations_without_a_fused_loop_run_the_phases(kwargs):
    layer = Layer(dt=1e-3, n_neurons=3, n_inputs=2, **kwargs)
    assert layer.fused_loop is None


def test_recording_runs_the_phases_and_agrees():
    layer = Layer("lif", dt=1e-3, n_neurons=4)
    assert layer.fused_loop is not None
    drive = torch.as_tensor(np.random.default_rng(1).uniform(0, 0.6, (50, 2, 4)))
    out, recorded, final = layer(drive, record=True)
    assert torch.equal(out, layer(drive))
    assert final["step"] == 50 and recorded["v"].shape == (50, 2, 4)


def test_a_model_derived_from_lif_with_more_state_keeps_it():
    """Adaptive LIF derives its step from LIF but carries a: recorded or not, the same spikes."""
    layer = Layer("adaptive_lif", dt=1e-3, n_neurons=4, params={"beta": 0.5})
    drive = torch.as_tensor(np.random.default_rng(2).uniform(0, 0.8, (60, 2, 4)))
    spikes = layer(drive)
    assert int(spikes.sum()) > 5 and torch.equal(spikes, layer(drive, record=True)[0])
