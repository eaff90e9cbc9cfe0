"""The PLIF mirror (euler, spikingjelly's conventions) reproduces spikingjelly itself.

spikingjelly's ParametricLIFNode(decay_input=True) is the oracle: outputs and
gradients (w.r.t. the input and the learnable a) must be identical in float64.
"""

import pytest
import torch

from biosnn.torch.layer import Layer

neuron = pytest.importorskip("spikingjelly.activation_based.neuron")
surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")
functional = pytest.importorskip("spikingjelly.activation_based.functional")

DT = 1e-3

#: spikingjelly stores its initial w in float32: within float32 rounding of our float64 a
FLOAT32_INIT = 1e-6
#: the tau gradient sums over time and batch in another order: float64 rounding of one reduction
REDUCTION_RTOL = 1e-12


def _pair(reset, detach_reset, init_tau=2.0):
    sj = neuron.ParametricLIFNode(
        init_tau=init_tau,
        decay_input=True,
        v_threshold=1.0,
        v_reset=0.0 if reset == "hard" else None,
        detach_reset=detach_reset,
        surrogate_function=surrogate.ATan(alpha=2.0),
        step_mode="m",
    ).double()
    ours = Layer(
        "plif",
        dt=DT,
        n_neurons=8,
        params={"tau_m": init_tau * DT},
        synapse="held",
        reset=reset,
        discretization="euler",
        surrogate="arctan",
        surrogate_alpha=2.0,
        detach_reset=detach_reset,
    ).double()
    return sj, ours


@pytest.mark.parametrize("detach_reset", [False, True])
@pytest.mark.parametrize("reset", ["hard", "subtract"])
@pytest.mark.parametrize("init_tau", [2.0, 3.7])
def test_plif_euler_matches_spikingjelly(reset, detach_reset, init_tau):
    torch.manual_seed(0)
    sj, ours = _pair(reset, detach_reset, init_tau)
    # spikingjelly stores its init in float32; start both from the same bits
    assert abs(sj.w.item() - ours.a.item()) < FLOAT32_INIT
    with torch.no_grad():
        ours.a.copy_(sj.w)
    x = (torch.rand(50, 4, 8, dtype=torch.float64) * 2.5).requires_grad_(True)
    x2 = x.detach().clone().requires_grad_(True)
    functional.reset_net(sj)
    out_sj = sj(x)
    out_ours = ours(x2)
    assert out_sj.sum() > 0
    assert torch.equal(out_sj, out_ours)
    target = torch.rand_like(out_sj)
    ((out_sj - target) ** 2).sum().backward()
    ((out_ours - target) ** 2).sum().backward()
    assert torch.equal(x.grad, x2.grad)
    # the tau gradient: identical up to the summation order of one reduction
    torch.testing.assert_close(sj.w.grad, ours.a.grad, rtol=REDUCTION_RTOL, atol=0)
    assert ours.a.grad.abs() > 0
