"""Euler-Maruyama against the exact update on one noise path (biosnn/studies/discretization/noise_orders.py):
strong and weak order 1 for additive noise (Kloeden & Platen 1992), in both backends."""

import pytest

from biosnn.core.errors import BiosnnInputError
from biosnn.studies.discretization.noise_orders import euler_maruyama_orders

#: the fitted order of 5 dts (a factor 16) with 50 membranes: the errors are means over 50 paths, whose
#: relative sampling spread (~10%, nearly the same at every dt: one path) moves a slope over log 16 = 2.8 by a few hundredths; 0.15 leaves room
ORDER_TOLERANCE = 0.15


@pytest.mark.parametrize("backend", ["torch", "brian2"])
def test_euler_maruyama_converges_with_order_one_for_additive_noise(backend):
    orders = euler_maruyama_orders(backend=backend, n=50, duration=0.0096)
    assert abs(orders.strong_order - 1) <= ORDER_TOLERANCE, orders
    assert abs(orders.weak_order - 1) <= ORDER_TOLERANCE, orders
    assert all(e > 0 for e in orders.strong) and orders.strong[0] > 8 * orders.strong[-1]


def test_bad_ladders_are_refused():
    with pytest.raises(BiosnnInputError, match="at least two distinct"):
        euler_maruyama_orders(factors=(1,))
    with pytest.raises(BiosnnInputError, match="divide the largest"):
        euler_maruyama_orders(factors=(1, 3, 4))
