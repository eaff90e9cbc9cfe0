"""A network compiled once (cpp_standalone) and run on new inputs: the results of fresh simulations."""

import numpy as np
import pytest

from biosnn import BiosnnInputError, simulate_network
from biosnn.brian.compiled import CompiledNetwork
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.models.network import FeedForwardNet, LayerSpec

DT, DURATION, BATCH = 1e-3, 30e-3, 5
#: final membranes of a compiled run against a fresh simulation: the same program on the same input,
#: except that a time-multiplexed batch may sum simultaneous arrivals in another order (docs/speed.md)
FINAL_V_TOLERANCE = 1e-11


def _net(rng):
    layers = (LayerSpec("lif", 8, dict(tau_m=5e-3)), LayerSpec("li", 3, dict(tau_m=10e-3)))
    return FeedForwardNet(
        6, layers, (rng.uniform(0, 0.8, (6, 8)), rng.uniform(-0.5, 1.0, (8, 3))), (rng.uniform(0, 4e-3, 6), None)
    )


@pytest.mark.cpp_standalone
def test_compiled_network_reruns_new_inputs_without_rebuilding(tmp_path):
    rng = np.random.default_rng(0)
    net = _net(rng)
    inputs = [poisson_spike_trains(rng, 6, rate, DURATION, DT, BATCH) for rate in (150.0, 300.0, 80.0)]
    expected = [simulate_network(net, spikes, backend="brian2", dt=DT, duration=DURATION) for spikes in inputs]
    with CompiledNetwork(
        net,
        dt=DT,
        duration=DURATION,
        batch=BATCH,
        copies=2,
        directory=str(tmp_path / "build"),
        capacity=2 * max(len(s) for s in inputs),
    ) as compiled:
        results = [compiled.run(inputs[0])]
        binary = tmp_path / "build" / "main"
        built_at = binary.stat().st_mtime_ns
        results += [compiled.run(spikes) for spikes in inputs[1:]]
        assert binary.stat().st_mtime_ns == built_at  # compiled once, run three times
        with pytest.raises(BiosnnInputError, match="capacity"):
            compiled.run(poisson_spike_trains(rng, 6, 999.0, DURATION, DT, BATCH))
        with pytest.raises(BiosnnInputError, match="batches of 5"):
            compiled.run(poisson_spike_trains(rng, 6, 100.0, DURATION, DT, 4))
    for got, want in zip(results, expected):
        assert got[0].keys() == want[0].keys() and len(want[0].spike_steps) > 10
        np.testing.assert_allclose(got[1].final_v, want[1].final_v, rtol=0, atol=FINAL_V_TOLERANCE)
    assert results[0][0].keys() != results[1][0].keys()  # the inputs did change the outcome
