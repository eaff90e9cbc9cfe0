"""Torch mirror properties: float32 agreement, gradients, shapes."""

import numpy as np
import pytest
import torch

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import compare_traces
from biosnn.torch.layer import Layer

#: float32: rounding ~6e-8 per op, accumulated over ~1e3 steps of O(1) values
V_TOLERANCE_FLOAT32 = 1e-5


def test_float32_against_brian2():
    """float32 mirror: v within 1e-5; spikes may flip only where v sits within
    float32 rounding of threshold. Measured on this case: identical spikes."""
    rng = np.random.default_rng(0)
    dt, dur = 1e-4, 0.1
    spikes = poisson_spike_trains(rng, 8, 150.0, dur, dt, 4)
    weights = rng.uniform(-0.2, 0.6, size=(8, 6))
    ref = biosnn.simulate("lif", spikes, weights, backend="brian2", dt=dt, duration=dur, reset="subtract")
    f32 = biosnn.simulate(
        "lif", spikes, weights, backend="torch", dtype="float32", dt=dt, duration=dur, reset="subtract"
    )
    agreement = compare_traces(ref, f32)
    assert agreement.n_spikes_a > 50
    assert agreement.max_abs_dv < V_TOLERANCE_FLOAT32
    assert agreement.spikes_identical


@pytest.mark.parametrize("model", ["lif", "plif"])
@pytest.mark.parametrize("surrogate", ["fast_sigmoid", "arctan"])
def test_gradients_reach_inputs_and_tau(model, surrogate):
    layer = Layer(model, dt=1e-3, n_neurons=5, params={"tau_m": 5e-3}, synapse="held", surrogate=surrogate)
    x = (torch.rand(30, 2, 5) * 2).requires_grad_(True)
    out = layer(x)
    out.sum().backward()
    assert x.grad.abs().sum() > 0
    if model == "plif":
        assert layer.a.grad is not None and layer.a.grad.abs() > 0


def test_detach_reset_changes_only_gradients():
    torch.manual_seed(1)
    x = torch.rand(40, 1, 3, dtype=torch.float64) * 3
    grads, outs = [], []
    for detach in (False, True):
        layer = Layer("plif", dt=1e-3, n_neurons=3, synapse="held", reset="hard", detach_reset=detach).double()
        xi = x.clone().requires_grad_(True)
        out = layer(xi)
        out.sum().backward()
        outs.append(out.detach())
        grads.append(xi.grad)
    assert torch.equal(outs[0], outs[1])
    assert not torch.allclose(grads[0], grads[1])


def test_shape_errors():
    layer = Layer("lif", dt=1e-3, n_neurons=3)
    with pytest.raises(biosnn.BiosnnInputError, match="time-major"):
        layer(torch.zeros(10, 3))
    with pytest.raises(biosnn.BiosnnInputError, match="time-major"):
        layer(torch.zeros(10, 1, 4))
    with pytest.raises(biosnn.BiosnnInputError, match="float"):
        layer(torch.zeros(10, 1, 3, dtype=torch.int64))


def test_batch_samples_are_independent():
    """Sample b of a batched Brian2 run equals a run of sample b alone."""
    rng = np.random.default_rng(9)
    dt, dur = 1e-4, 0.05
    batch = poisson_spike_trains(rng, 5, 200.0, dur, dt, 3)
    weights = rng.uniform(0, 0.6, size=(5, 2))
    full = biosnn.simulate("lif", batch, weights, backend="brian2", dt=dt, duration=dur)
    sel = batch.samples == 1
    alone = biosnn.SpikeTrains(batch.times[sel], batch.units[sel], 5, dur)
    single = biosnn.simulate("lif", alone, weights, backend="brian2", dt=dt, duration=dur)
    assert full.v.shape == (500, 3, 2) and single.v.shape == (500, 2)
    np.testing.assert_array_equal(full.v[:, 1], single.v)


@pytest.mark.parametrize("model", ["lif", "wta", "gamma_cascade", "adaptive_lif"])
def test_a_run_continued_from_its_state_equals_one_run(model):
    """Passing the final state back continues the run: same outputs and states as in one piece (the
    step clock is part of the state: Lee et al.'s refractory trigger t_r is an absolute time)."""
    rng = np.random.default_rng(3)
    params = {"bucket_tau": (3e-3, 5e-3)} if model == "gamma_cascade" else {"t_ref": 1e-3} if "lif" in model else {}
    layer = Layer(model, dt=1e-4, n_neurons=4, params=params).double()
    drive = torch.as_tensor(rng.uniform(-0.2, 0.9, (400, 2, 4)))
    whole, recorded, _ = layer(drive, record=True)
    first, rec_first, state = layer(drive[:150], record=True)
    second, rec_second, _ = layer(drive[150:], state=state, record=True)
    assert whole.sum() > 5
    torch.testing.assert_close(torch.cat([first, second]), whole, rtol=0, atol=0)
    for name in recorded:
        torch.testing.assert_close(torch.cat([rec_first[name], rec_second[name]]), recorded[name], rtol=0, atol=0)
