"""The training loop: seeded, checkpointed every epoch, resumable to identical weights."""

import numpy as np
import pytest
import torch
from tolerances import CLOSED_FORM

from biosnn import BiosnnInputError
from biosnn.data.synthetic import interval_order_task
from biosnn.equivalence.contract import V_TOLERANCE
from biosnn.studies.delay_task import DelayTaskConfig, build, run
from biosnn.training.loop import TensorData, TrainConfig, fit


def _data(n=64):
    x, y = interval_order_task(np.random.default_rng(0), n)
    return torch.as_tensor(x), torch.as_tensor(y)


class Interrupt(Exception):
    pass


def test_resume_after_interruption_gives_identical_weights(tmp_path):
    x, y = _data()
    cfg = DelayTaskConfig(n_train=64)
    train = TrainConfig(epochs=4, batch_size=16, progress=False)
    reference = build(cfg)
    fit(
        reference,
        TensorData(x, y),
        train,
        post_step=lambda m: m.clamp_delays_(),
        delay_parameters=reference.delay_parameters(),
    )

    calls = {"n": 0}

    def dies_in_epoch_three(model):
        model.clamp_delays_()
        calls["n"] += 1
        if calls["n"] == 2 * 4 + 1:  # 4 batches per epoch: first step of epoch 3
            raise Interrupt

    ckpt = str(tmp_path / "ckpt")
    interrupted = build(cfg)
    with pytest.raises(Interrupt):
        fit(
            interrupted,
            TensorData(x, y),
            TrainConfig(**{**train.__dict__, "checkpoint_dir": ckpt}),
            post_step=dies_in_epoch_three,
            delay_parameters=interrupted.delay_parameters(),
        )
    assert torch.load(tmp_path / "ckpt" / "last.pt", weights_only=True)["epoch"] == 1  # epochs 0, 1 saved
    resumed = build(cfg)
    history = fit(
        resumed,
        TensorData(x, y),
        TrainConfig(**{**train.__dict__, "checkpoint_dir": ckpt}),
        post_step=lambda m: m.clamp_delays_(),
        delay_parameters=resumed.delay_parameters(),
    )
    assert history["epochs_run"] == 2 and len(history["loss"]) == 4
    for (name, a), b in zip(reference.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(BiosnnInputError, match="another run \\(config differ"):
        fit(build(cfg), TensorData(x, y), TrainConfig(**{**train.__dict__, "checkpoint_dir": ckpt, "lr": 0.5}))
    assert not [p for p in (tmp_path / "ckpt").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_two_layer_delay_network_trains_and_runs_identically_in_brian2():
    """Interval-order task (chance 50%): >= 95% after 25 epochs; Brian2 predicts every test sample identically."""
    result = run(DelayTaskConfig(n_train=400, n_test=200))
    assert result["accuracy_torch"] >= 0.95
    assert result["prediction_agreement"] == 1.0
    assert result["accuracy_brian2"] == result["accuracy_exported_torch"] == result["accuracy_torch"]
    assert result["max_abs_readout_difference"] < V_TOLERANCE


@pytest.mark.slow
def test_spike_count_readout_trains():
    """The other readout: spike counts of a spiking last layer (chance 50%)."""
    from functools import partial

    from biosnn.models.network import LayerSpec
    from biosnn.torch.network import FeedForward
    from biosnn.training.loop import evaluate, spike_count_logits

    x, y = _data(300)
    rng = np.random.default_rng(0)
    net = FeedForward(
        4,
        [LayerSpec("lif", 16, {"tau_m": 5e-3}), LayerSpec("lif", 2, {"tau_m": 10e-3})],
        dt=1e-3,
        weights=[rng.normal(0, 0.8, (4, 16)), rng.normal(0.3, 0.3, (16, 2))],
        surrogate_alpha=5.0,
    ).double()
    logits = partial(spike_count_logits, scale=2.0)
    history = fit(net, TensorData(x, y), TrainConfig(epochs=15, lr=2e-2, progress=False), logits_fn=logits)
    assert history["accuracy"][-1] > 0.8
    assert (evaluate(net, x, logits_fn=logits).argmax(1) == y.numpy()).mean() > 0.8


def test_monitor_records_learnt_plif_time_constants_every_epoch():
    """The monitor sees the initial network and the network after every epoch: the PLIF layer's tau_m
    starts at its configured value, moves during training, and its last entry is the tau_m the exported
    network (the Brian2 twin) carries, tau_m = dt / sigmoid(a) (Fang et al. 2021)."""
    from biosnn.studies.timing_tasks import TimingTaskConfig, build, learnt_time_constants

    cfg = TimingTaskConfig(hidden=6, tau_hidden=15e-3)
    net = build(cfg, n_inputs=4, n_classes=2, duration=0.02)
    x = torch.as_tensor(np.random.default_rng(0).random((32, 20, 4)) < 0.2, dtype=torch.float64)
    y = torch.as_tensor(np.random.default_rng(1).integers(0, 2, 32))
    history = fit(
        net,
        TensorData(x, y),
        TrainConfig(epochs=3, batch_size=16, lr=0.05, progress=False),
        monitor=learnt_time_constants,
    )
    taus = [entry["tau_m"] for entry in history["monitor"]]
    assert len(taus) == 4 and all(len(t) == 1 for t in taus)
    assert taus[0][0] == pytest.approx(15e-3, rel=CLOSED_FORM)
    assert taus[-1][0] != taus[0][0]
    assert taus[-1][0] == net.export().layers[0].params["tau_m"]


def test_a_checkpoint_resumes_only_with_the_same_monitoring(tmp_path):
    """A run checkpointed without a monitor cannot be resumed with one (its history would miss epochs)."""
    from biosnn.studies.timing_tasks import TimingTaskConfig, build, learnt_time_constants

    net = build(TimingTaskConfig(hidden=3), n_inputs=2, n_classes=2, duration=0.01)
    x = torch.zeros((8, 10, 2), dtype=torch.float64)
    y = torch.as_tensor(np.arange(8) % 2)
    cfg = TrainConfig(epochs=1, batch_size=8, progress=False, checkpoint_dir=str(tmp_path))
    fit(net, TensorData(x, y), cfg)
    with pytest.raises(BiosnnInputError, match="written without a monitor"):
        fit(
            build(TimingTaskConfig(hidden=3), n_inputs=2, n_classes=2, duration=0.01),
            TensorData(x, y),
            TrainConfig(**{**cfg.__dict__, "epochs": 1}),
            monitor=learnt_time_constants,
        )
