"""Hostile files, faults and interruptions (issue: results safe to share, Ctrl-C, outputs never replace inputs).

Every case names the item it covers; each fails on the code before the fix (checked by breaking it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from biosnn import BiosnnInputError, SpikeTrains
from biosnn.cli import INTERRUPTED, main

ROOT = Path(__file__).resolve().parents[1]


# -- 1. a planted checkpoint cannot run code -------------------------------------------------------------
class _Payload:
    """Unpickling this object writes a file: what a planted ``last.pt`` would do with ``weights_only=False``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def _tiny_fit(checkpoint_dir):
    from biosnn.data.synthetic import interval_order_task
    from biosnn.studies.delay_task import DelayTaskConfig, build
    from biosnn.training.loop import TensorData, TrainConfig, fit

    x, y = (torch.as_tensor(a) for a in interval_order_task(np.random.default_rng(0), 16))
    cfg = TrainConfig(epochs=1, batch_size=16, progress=False, checkpoint_dir=str(checkpoint_dir))
    return fit(build(DelayTaskConfig()), TensorData(x, y), cfg)


def test_a_planted_checkpoint_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"run_key": _Payload(str(marker)), "model": {}}, tmp_path / "last.pt")
    with pytest.raises(BiosnnInputError, match="not a biosnn checkpoint"):
        _tiny_fit(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("state, match", [
    ({"run_key": "abc"}, "does not hold a biosnn training state"),
    ([1, 2, 3], "does not hold a biosnn training state"),
    ({k: 0 for k in ("model", "optimizer", "scheduler", "generator", "torch_rng", "history", "epoch", "run_key")},
     "run key is not a dict"),
])
def test_a_foreign_checkpoint_is_refused_clearly(tmp_path, state, match):
    torch.save(state, tmp_path / "last.pt")
    with pytest.raises(BiosnnInputError, match=match):
        _tiny_fit(tmp_path)


def test_a_checkpoint_resumes_with_safe_loading(tmp_path):
    """The real state (optimizer, scheduler, generator, history) loads under ``weights_only=True``."""
    _tiny_fit(tmp_path)
    assert _tiny_fit(tmp_path)["epochs_run"] == 0
