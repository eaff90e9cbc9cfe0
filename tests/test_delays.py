"""Learnable axonal delays: adjointness, the temporal-difference gradient, clamping, rounding."""

import numpy as np
import pytest
import torch

from biosnn import schedule
from biosnn.torch.delay import AxonalDelay, shift_per_neuron, unshift_per_neuron


def test_unshift_is_the_adjoint_of_shift():
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(20, 3, 5)))
    g = torch.as_tensor(rng.normal(size=(20, 3, 5)))
    k = torch.as_tensor([0, 1, 4, 7, 19])
    lhs = (shift_per_neuron(x, k) * g).sum()
    rhs = (x * unshift_per_neuron(g, k)).sum()
    assert torch.isclose(lhs, rhs, rtol=1e-12)
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
        assert integer.delay_steps.grad[i].item() == pytest.approx(fd, rel=1e-6, abs=1e-9)


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
        assert analytic[i].item() == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_clamp_and_export_rounding():
    layer = AxonalDelay(3, dt=1e-3, d_max=5e-3, init=np.array([0.0, 2.6e-3, 4.9e-3]))
    with torch.no_grad():
        layer.delay_steps.add_(torch.tensor([-1.0, 0.0, 3.0], dtype=torch.float64))
    layer.clamp_()
    assert layer.delay_steps.tolist() == pytest.approx([0.0, 2.6, 5.0])
    assert layer.exported_steps().tolist() == [0, 2, 5]  # integer mode: floor, what the forward used
    layer.fractional = True
    assert layer.exported_steps().tolist() == [0, 3, 5]  # fractional: nearest step


def test_brian2_delay_rounding_rule():
    dt = 1e-4
    assert schedule.delay_steps(np.array([0.0, 0.49, 0.5, 2.6, 3.0]) * dt, dt).tolist() == [0, 0, 1, 3, 3]


def test_bad_delays_rejected():
    with pytest.raises(ValueError, match="delay=-0.001s is out of range"):
        AxonalDelay(2, dt=1e-3, d_max=1e-2, init=np.array([-1e-3, 0.0]))
