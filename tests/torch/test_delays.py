"""Learnable axonal delays: adjointness, the temporal-difference gradient, clamping, rounding."""

import numpy as np
import pytest
import torch

from biosnn.core import schedule
from biosnn.torch.delay import AxonalDelay, shift_per_neuron, unshift_per_neuron

#: two orders of the same float64 sum
ROUNDING_RTOL = 1e-12
#: finite differences with h = 1e-6 of a piecewise-linear (exactly linear near the point) function: rounding
#: error ~eps/h
FD_RTOL = 1e-6


def test_unshift_is_the_adjoint_of_shift():
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(20, 3, 5)))
    g = torch.as_tensor(rng.normal(size=(20, 3, 5)))
    k = torch.as_tensor([0, 1, 4, 7, 19])
    lhs = (shift_per_neuron(x, k) * g).sum()
    rhs = (x * unshift_per_neuron(g, k)).sum()
    assert torch.isclose(lhs, rhs, rtol=ROUNDING_RTOL)
    assert torch.equal(shift_per_neuron(x, k)[:, :, 2], torch.cat([torch.zeros(4, 3), x[:-4, :, 2]]).double())


def _smooth_case(T=60, n=4, seed=1):
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None, None]
    x = torch.as_tensor(np.sin(0.2 * t + rng.uniform(0, 6, (1, 2, n))) + 0.1 * t / T)
    c = torch.as_tensor(rng.normal(size=(T, 2, n)))
    return x, c


def test_integer_gradient_is_the_right_derivative_of_the_interpolated_delay():
    """dL/dd of the integer delay (SLAYER's temporal difference) equals a finite
    difference of the linearly interpolating delay taken just right of the integer."""
    x, c = _smooth_case()
    integer = AxonalDelay(4, dt=1e-3, d_max=0.03, init=np.array([2, 5, 0, 11]) * 1e-3)
    (integer(x) * c).sum().backward()
    fractional = AxonalDelay(4, dt=1e-3, d_max=0.03, fractional=True)
    h = 1e-6
    for i in range(4):
        d = integer.delay_steps.detach().clone()
        values = []
        for eps in (0.0, h):
            with torch.no_grad():
                fractional.delay_steps.copy_(d)
                fractional.delay_steps[i] += eps
                values.append(float((fractional(x) * c).sum()))
        fd = (values[1] - values[0]) / h
        assert integer.delay_steps.grad[i].item() == pytest.approx(fd, rel=FD_RTOL, abs=1e-9)


def test_fractional_delay_gradcheck():
    """Away from integers the interpolating delay is smooth: autograd == finite differences."""
    x, c = _smooth_case(T=30, n=3)
    layer = AxonalDelay(3, dt=1e-3, d_max=0.02, init=np.array([1.3, 4.7, 0.2]) * 1e-3, fractional=True)
    x = x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda inp: layer(inp).mul(c).sum(), (x,))
    (layer(x) * c).sum().backward()
    analytic = layer.delay_steps.grad.clone()
    h = 1e-6
    for i in range(3):
        with torch.no_grad():
            layer.delay_steps[i] += h
            up = float((layer(x) * c).sum())
            layer.delay_steps[i] -= 2 * h
            down = float((layer(x) * c).sum())
            layer.delay_steps[i] += h
        assert analytic[i].item() == pytest.approx((up - down) / (2 * h), rel=FD_RTOL)


def test_clamp_and_export_rounding():
    layer = AxonalDelay(3, dt=1e-3, d_max=5e-3, init=np.array([0.0, 2.6e-3, 4.9e-3]))
    with torch.no_grad():
        layer.delay_steps.add_(torch.tensor([-1.0, 0.0, 3.0], dtype=torch.float64))
    layer.clamp_()
    assert layer.delay_steps.tolist() == pytest.approx([0.0, 2.6, 5.0])
    assert layer.exported_steps().tolist() == [0, 2, 5]  # integer mode: floor, what the forward used
    layer.fractional = True
    assert layer.exported_steps().tolist() == [0, 3, 5]  # fractional: nearest step


def test_delays_follow_the_grids_one_rounding_rule():
    """``timestep()``: the step holding the delay's end, within 1e-3 dt below a grid point rounding up."""
    dt = 1e-4
    delays = np.array([0.0, 0.49, 0.5, 2.6, 3.0, 3.0 - 0.5e-3, 3.0 - 2e-3]) * dt
    assert schedule.delay_steps(delays, dt).tolist() == [0, 0, 0, 2, 3, 3, 2]
    assert schedule.delay_steps(delays, dt).tolist() == schedule.timestep(delays, dt).tolist()


def test_bad_delays_rejected():
    with pytest.raises(ValueError, match="delay=-0.001s is out of range"):
        AxonalDelay(2, dt=1e-3, d_max=1e-2, init=np.array([-1e-3, 0.0]))


def test_decimal_delays_are_whole_steps_in_both_backends():
    """Every delay a user types as a multiple of dt (0.1 ms .. 29.9 ms at dt = 0.1 ms) is that many steps in
    the learnable delay too: n * dt / dt is n - 1e-16 for some n, which flooring would shorten by a step."""
    dt = 1e-4
    k = np.arange(300)
    delays = np.round(k * 0.1, 1) * 1e-3  # the values as typed: 0.0, 0.1, ..., 29.9 ms
    assert np.count_nonzero(np.floor(delays / dt) != k) > 0  # the trap exists
    layer = AxonalDelay(300, dt=dt, d_max=30e-3, init=delays)
    assert layer.exported_steps().tolist() == k.tolist() == schedule.delay_steps(delays, dt).tolist()


@pytest.mark.parametrize("delay", [4.9e-3, 30e-3])
def test_description_delays_give_identical_spikes(delay):
    """A 4.9 ms delay (49 steps, a floor trap) and one beyond the default d_max: both backends agree."""
    from biosnn import SpikeTrains, simulate_network
    from biosnn.models.network import FeedForwardNet, LayerSpec

    net = FeedForwardNet(1, (LayerSpec("lif", 1, {"tau_m": 20e-3}),), (np.array([[1.5]]),), (np.array([delay]),))
    spikes = SpikeTrains(np.array([1e-3]), np.array([0]), 1, 40e-3)
    steps = [
        simulate_network(net, spikes, backend=b, dt=1e-4, duration=40e-3)[0].spike_steps.tolist()
        for b in ("brian2", "torch")
    ]
    assert steps[0] == steps[1] == [10 + 1 + int(round(delay / 1e-4))]


def test_delays_beyond_d_max_are_refused_not_clamped():
    with pytest.raises(ValueError, match="exceeds d_max"):
        AxonalDelay(2, dt=1e-3, d_max=10e-3, init=np.array([0.0, 30e-3]))
