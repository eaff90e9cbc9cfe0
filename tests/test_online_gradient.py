"""The online objective's forward-accumulated gradient against back-propagation through the whole run."""

import numpy as np
import pytest
import torch

from biosnn.core.errors import BiosnnInputError
from biosnn.data.synthetic import batch_spike_trains, precise_interval_task
from biosnn.studies.gamma_task import (
    N_INPUTS,
    GammaTaskConfig,
    build,
    input_counts,
    online_loss_and_gradient,
    online_output,
    online_parameters,
    scores,
)
from biosnn.torch.dynamics.gamma_cascade import cascade_propagator, source_buckets
from biosnn.training.online import running_average_ce_gradient

DT, DURATION, SCALE = 1e-3, 0.04, 20.0

#: the same float64 sums in another order (linearity of the cascade): rounding only
SUM_TOLERANCE = 1e-12
#: forward accumulation vs back-propagation: float64 sums over ~40 steps of per-step Jacobians
GRADIENT_RTOL = 1e-10


def _setup(seed=0, n=6):
    cfg = GammaTaskConfig(seed=seed, duration=DURATION, bias_init=0.02)
    samples, labels = precise_interval_task(np.random.default_rng(seed), n, duration=DURATION)
    return build(cfg), batch_spike_trains(samples, N_INPUTS, DURATION), torch.as_tensor(labels)


def _layer_outputs(net, spikes):
    """y computed in each step by the network's layer itself, from the weighted drive: the y recorded
    at the start of the next step, and after the last step."""
    drive = net.drive(0, input_counts(spikes, DT, DURATION))
    _, rec, final = net.neurons[0](drive, record=True)
    return torch.cat([rec["y"][1:], final["y"][None]])


def test_source_buckets_read_through_the_weights_are_the_layer_buckets():
    """Linearity of the cascade: per-source buckets x weights == the layer's per-neuron cascade (float64)."""
    net, spikes, _ = _setup()
    counts = input_counts(spikes, DT, DURATION)
    propagator = cascade_propagator(net.neurons[0].dynamics.bucket_tau, DT)
    online = torch.stack(
        [
            torch.vmap(online_output, in_dims=(None, 0))(online_parameters(net), e)
            for e in source_buckets(counts, propagator)
        ]
    )
    reference = _layer_outputs(net, spikes)
    assert reference.abs().max() > 0.05 and (reference == 0).any()  # both ReLU sides are exercised
    torch.testing.assert_close(online, reference, rtol=0, atol=SUM_TOLERANCE)
    # the class score the task reads: the same y one step later (Brian2's start-of-step record)
    torch.testing.assert_close(scores(net, counts)[1:], reference[:-1], rtol=0, atol=SUM_TOLERANCE)


@pytest.mark.parametrize("seed", [0, 1])
def test_online_gradient_equals_backpropagation_through_time(seed):
    """No gradient is lost by not back-propagating through time: the cascade carries no
    parameters, so the forward accumulation is exact. Tolerance 1e-10 relative (float64 sums)."""
    net, spikes, target = _setup(seed)
    loss, grads = online_loss_and_gradient(net, input_counts(spikes, DT, DURATION), target, DT, SCALE)

    y = _layer_outputs(net, spikes)
    steps = torch.arange(1, y.shape[0] + 1, dtype=y.dtype)[:, None, None]
    running = torch.cumsum(y, 0) / steps
    bptt_loss = torch.stack([torch.nn.functional.cross_entropy(SCALE * m, target) for m in running]).mean()
    bptt_loss.backward()
    assert loss == pytest.approx(bptt_loss.detach().item(), rel=SUM_TOLERANCE)
    for name, tensor in online_parameters(net).items():
        assert tensor.grad.abs().max() > 1e-6, name  # a gradient that vanished would pass trivially
        torch.testing.assert_close(grads[name], tensor.grad, rtol=GRADIENT_RTOL, atol=1e-14)


def test_online_gradient_rejects_bad_input():
    params = dict(w=torch.ones(3, 2, dtype=torch.float64))
    step = lambda p, e: e @ p["w"]  # noqa: E731
    states = [torch.ones(4, 3, dtype=torch.float64)]
    with pytest.raises(BiosnnInputError, match="target"):
        running_average_ce_gradient(step, params, iter(states), torch.zeros(5, dtype=torch.long))
    with pytest.raises(BiosnnInputError, match="step 2: non-finite"):
        running_average_ce_gradient(
            step,
            params,
            iter(states + [torch.full((4, 3), np.nan, dtype=torch.float64)]),
            torch.zeros(4, dtype=torch.long),
        )
    with pytest.raises(BiosnnInputError, match="no time steps"):
        running_average_ce_gradient(step, params, iter([]), torch.zeros(4, dtype=torch.long))
