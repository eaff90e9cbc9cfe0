"""Surrogate contract: forward is Heaviside(x >= 0), backward is the derivative of
an independently written smooth primitive (checked by central finite differences)."""

import math

import numpy as np
import pytest
import torch

from biosnn.torch.surrogate import DEFAULT_ALPHA, Surrogate

PRIMITIVES = {
    # g with g' = surrogate derivative; written here from the papers, not imported
    "fast_sigmoid": lambda x, a: x / (1.0 + a * np.abs(x)),
    "arctan": lambda x, a: np.arctan(math.pi / 2 * a * x) / math.pi + 0.5,
}
#: central differences with h = 1e-7 in float64: truncation O(h^2 g''') and
#: rounding O(eps/h) are both below 1e-6 relative for these alphas away from x = 0
FD_RTOL = 1e-6


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_backward_matches_finite_differences(name):
    alpha = DEFAULT_ALPHA[name]
    surrogate = Surrogate(name)
    x = torch.tensor(
        np.concatenate([np.linspace(-0.5, -1e-3, 60), np.linspace(1e-3, 0.5, 60)]),
        dtype=torch.float64,
        requires_grad=True,
    )
    surrogate(x).sum().backward()
    h = 1e-7
    xs = x.detach().numpy()
    fd = (PRIMITIVES[name](xs + h, alpha) - PRIMITIVES[name](xs - h, alpha)) / (2 * h)
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=FD_RTOL)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_forward_is_heaviside_including_zero(name):
    x = torch.tensor([-1e-12, 0.0, 1e-12, -3.0, 2.0], dtype=torch.float64)
    assert Surrogate(name)(x).tolist() == [0.0, 1.0, 1.0, 0.0, 1.0]


def test_default_alphas_are_the_papers():
    assert Surrogate("fast_sigmoid").alpha == 100.0  # Neftci et al. 2019
    assert Surrogate("arctan").alpha == 2.0  # Fang et al. 2021


def test_peak_values():
    # fast sigmoid peaks at 1, arctan at alpha/2
    zero = torch.zeros(1, dtype=torch.float64)
    assert Surrogate("fast_sigmoid").grad(zero).item() == 1.0
    assert Surrogate("arctan", 3.0).grad(zero).item() == 1.5


def test_unknown_surrogate_is_rejected():
    with pytest.raises(ValueError, match="unknown surrogate"):
        Surrogate("sigmoidish")
