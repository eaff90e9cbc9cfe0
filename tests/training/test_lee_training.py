"""The paper's training rule and surrogate training on a real task, then Brian2."""

import math

import numpy as np
import pytest
import torch

from biosnn.models.network import LayerSpec
from biosnn.studies.digits import DigitsConfig, run
from biosnn.torch.network import FeedForward
from biosnn.training.lee_rule import enforce_threshold_floor, lee_init, lee_rule_logits, low_pass_mean, wta_gain

#: closed forms vs recursions and autograd of the same float64 arithmetic: rounding only
ROUNDING = 1e-12


def test_low_pass_mean_matches_recursion():
    rng = np.random.default_rng(0)
    spikes = torch.as_tensor((rng.random((40, 3, 5)) < 0.2).astype(float))
    decay = 0.9
    y = torch.zeros(3, 5, dtype=torch.float64)
    total = torch.zeros_like(y)
    for s in spikes:
        y = decay * y + s
        total += y
    torch.testing.assert_close(low_pass_mean(spikes, decay), total / 40, rtol=ROUNDING, atol=ROUNDING)


def _net(mu=-0.4, n=6, seed=0):
    rng = np.random.default_rng(seed)
    weights, thresholds = lee_init([5, n], a=3.0, rng=rng)
    layer = LayerSpec("wta", n, dict(mu=mu, sigma=0.5, v_th=thresholds[0]))
    return FeedForward(5, [layer], dt=1e-3, weights=weights).double()


def test_wta_gain_sign_convention():
    """Inhibition (mu < 0) lowers the gain: 1 / (V_th (1 + sigma |mu| (n - 1)))."""
    net = _net(mu=-0.4)
    neurons = net.neurons[0]
    expected = 1.0 / (neurons.v_th * (1 + 0.5 * 0.4 * 5))
    torch.testing.assert_close(wta_gain(neurons), expected)
    assert torch.all(wta_gain(neurons) < wta_gain(_net(mu=0.0).neurons[0]))


def test_rule_gradient_is_the_rate_model():
    """dL/dW equals the analytic rate-model gradient x_bar^T (dL/da * gain)."""
    net = _net()
    rng = np.random.default_rng(1)
    raster = torch.as_tensor((rng.random((50, 4, 5)) < 0.4).astype(float))
    logits, _ = lee_rule_logits(net, raster, logit_scale=1.0)
    upstream = torch.as_tensor(rng.normal(size=logits.shape))
    (logits * upstream).sum().backward()
    decay = math.exp(-1e-3 / net.neurons[0].parameters_si["tau_mp"])
    x_bar = low_pass_mean(raster, decay)
    gain = wta_gain(net.neurons[0]).detach()
    torch.testing.assert_close(net.weights[0].grad, x_bar.T @ (upstream * gain), rtol=ROUNDING, atol=ROUNDING)


def test_threshold_floor_rescales_weights_not_activity():
    net = _net()
    neurons, weight = net.neurons[0], net.weights[0]
    with torch.no_grad():
        neurons.v_th[0] = 1.5
    ratio_before = (weight[:, 0] / neurons.v_th[0]).detach().clone()
    assert enforce_threshold_floor(net, 3.0) == 1
    assert neurons.v_th[0].item() == 3.0
    torch.testing.assert_close(weight[:, 0] / neurons.v_th[0], ratio_before)


@pytest.mark.slow
@pytest.mark.parametrize("rule, min_accuracy", [("lee", 0.75), ("surrogate", 0.35)])
def test_digits_train_in_torch_and_agree_in_brian2(rule, min_accuracy):
    """A short run (chance 10%): trained in torch, identical predictions in Brian2."""
    result = run(DigitsConfig(rule=rule, epochs=3), n_test=120, progress=False)
    assert result["accuracy_torch"] >= min_accuracy
    assert result["prediction_agreement"] == 1.0
    assert result["identical_output_counts"] == 1.0
    assert result["accuracy_brian2"] == result["accuracy_torch"]
