"""PLIF: Brian2 reference == torch mirror on hypothesis-drawn layers; the learnt tau exports exactly."""

import numpy as np
import pytest
import torch
from tolerances import ROUNDING, SUMMATION

import biosnn
from biosnn.equivalence.contract import V_TOLERANCE
from biosnn.torch.layer import Layer

from .equivalence import equivalence_case, equivalence_property
from .test_lif import SYNAPSES

MODEL = "plif"


#: how far a trained tau must be from its initial 5 ms (an update that did nothing leaves it within 1e-15)
TRAINED_AWAY = 1e-4


@pytest.mark.parametrize("synapse", SYNAPSES)
def test_plif_brian_equals_torch_property(synapse):
    equivalence_property(MODEL, equivalence_case(synapse), max_examples=6, synapse=synapse)()


def test_plif_default_tau_is_two_steps():
    """Fang et al.: a = 0 at init, i.e. tau0 = 2 dt."""
    layer = Layer("plif", dt=1e-3, n_neurons=1)
    assert layer.a.item() == 0.0
    assert layer.exported_parameters()["tau_m"] == pytest.approx(2e-3, rel=ROUNDING)


def test_plif_trained_tau_exports_to_brian2():
    """A learnt a is exported as tau_m = dt/sigmoid(a) and Brian2 reproduces the layer."""
    dt = 1e-4
    layer = Layer("plif", dt=dt, n_neurons=4, params={"tau_m": 5e-3}, synapse="held").double()
    with torch.no_grad():
        layer.a.add_(0.37)  # as if trained
    rng = np.random.default_rng(5)
    drive = rng.uniform(0, 1, size=(400, 2, 3))
    weights = rng.uniform(0, 1.4, size=(3, 4))
    spikes, rec, _ = layer(torch.as_tensor(drive @ weights), record=True)  # held input: no latency
    ref = biosnn.simulate(
        "plif",
        drive,
        weights,
        backend="brian2",
        dt=dt,
        duration=400 * dt,
        params=layer.exported_parameters(),
        synapse="held",
    )
    exported = ref.meta["params"]["tau_m"]
    assert exported == pytest.approx(dt / torch.sigmoid(layer.a).item(), rel=SUMMATION)
    assert abs(exported - 5e-3) > TRAINED_AWAY  # training moved it
    assert spikes.sum() > 0
    np.testing.assert_allclose(ref.v, rec["v"].detach().numpy(), atol=V_TOLERANCE, rtol=0)


def test_plif_tau_must_exceed_dt():
    with pytest.raises(biosnn.BiosnnInputError, match="tau_m > dt"):
        Layer("plif", dt=1e-3, n_neurons=1, params={"tau_m": 0.9e-3})
