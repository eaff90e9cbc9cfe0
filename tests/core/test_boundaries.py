"""Nothing is left stale or orphaned, and the tool is quick to start.

Files with the user's umask and no temporary file left behind a killed write,
report directories that hold one run, checkpoints and study results resumed only
for the same run, Brian2's exception hook and /tmp files undone, and start-up
without Brian2 or torch. The bad-input tables are ``tests/cli/test_bad_input.py``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from biosnn import BiosnnInputError
from biosnn.cli import main
from biosnn.core.io import atomic_save_npz, replace_directory
from biosnn.core.results import StudyResults, run_key

ROOT = Path(__file__).resolve().parents[2]


def test_a_report_directory_holds_one_run(tmp_path):
    out = tmp_path / "report"
    assert main(["validate", "--models", "lee_refractory", "--quiet", "--out", str(out)]) == 0
    assert (out / "overlay_lee_refractory.png").exists()
    assert main(["validate", "--models", "li", "--quiet", "--out", str(out)]) == 0
    assert not (out / "overlay_lee_refractory.png").exists() and (out / "overlay_li.png").exists()
    assert list(json.loads((out / "report.json").read_text())["models"]) == ["li"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_an_interrupted_report_leaves_the_previous_one_and_its_leftovers_are_removed(tmp_path):
    out = tmp_path / "report"
    replace_directory(out, lambda d: (d / "report.json").write_text("{}"), "test")

    def dies(d):
        (d / "half.json").write_text("{")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_directory(out, dies, "test")
    assert sorted(p.name for p in out.iterdir()) == [".biosnn-output", "report.json"]
    stale = tmp_path / ".report.99999999.abcdefgh.tmp"  # as a killed process leaves it (no such pid)
    stale.mkdir()
    replace_directory(out, lambda d: (d / "report.json").write_text("{}"), "test")
    assert not stale.exists()


def test_a_killed_write_leaves_no_temporary_file_after_the_next(tmp_path):
    target = tmp_path / "trace.npz"
    leftover = tmp_path / ".trace.npz.99999999.x1y2z3w4.tmp"  # a process killed during its write
    leftover.write_bytes(b"half")
    alive = tmp_path / f".trace.npz.{os.getppid()}.zzzzzzzz.tmp"  # a write in progress elsewhere: kept
    alive.write_bytes(b"busy")
    users = [tmp_path / ".trace.npz.notes.tmp", tmp_path / ".trace.npz.json.99999999.abcdefgh.tmp"]
    for path in users:  # a user's file, and another target's leftover: never this target's to remove
        path.write_bytes(b"theirs")
    atomic_save_npz(target, {"x": np.zeros(3)})
    assert target.exists() and not leftover.exists() and alive.exists() and all(p.exists() for p in users)


def test_a_swap_killed_between_its_renames_is_undone_by_the_next_run(tmp_path):
    out = tmp_path / "report"
    previous = tmp_path / ".report.99999999.abcdefgh.old"  # the old report, set aside by a killed swap
    previous.mkdir()
    (previous / "report.json").write_text('{"previous": true}')
    (previous / ".biosnn-output").write_text("test\n")

    def interrupted(d):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_directory(out, interrupted, "test")
    assert json.loads((out / "report.json").read_text()) == {"previous": True} and not previous.exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_users_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        atomic_save_npz(tmp_path / "x.npz", {"x": np.zeros(1)})
    finally:
        os.umask(previous)
    assert (tmp_path / "x.npz").stat().st_mode & 0o777 == mode


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_start_up_imports_neither_brian2_nor_torch():
    """``biosnn --help``, ``--version`` and ``models`` (and ``import biosnn``) import neither: measured
    0.2 s each on a 2-core machine, against 2.7 s when Brian2 was imported eagerly."""
    for command in ("['models']", "['--help']", "['--version']"):
        result = _python(
            "import sys\nfrom biosnn.cli import main\ntry:\n    main(" + command + ")\n"
            "except SystemExit:\n    pass\nprint('brian2' in sys.modules, 'torch' in sys.modules)"
        )
        assert result.stdout.strip().splitlines()[-1] == "False False", (command, result.stderr)


def test_brian2_leaves_the_users_exceptions_and_tmp_alone(tmp_path):
    """Importing the Brian2 backend keeps the user's exception hook and removes Brian2's /tmp files."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    code = (
        "import biosnn\nbiosnn.simulate('lif', biosnn.SpikeTrains([0.001], [0], 1, 0.01), [[1.5]], "
        "backend='brian2', dt=1e-4, duration=0.01)\nraise biosnn.BiosnnInputError('my own error')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 1 and "BiosnnInputError: my own error" in result.stderr
    assert "Brian 2 encountered an unexpected error" not in result.stderr
    assert not list(tmp_path.glob("brian_*"))


def test_checkpoints_resume_only_the_same_run(tmp_path):
    from biosnn.data.synthetic import interval_order_task
    from biosnn.studies.delay_task import DelayTaskConfig, build
    from biosnn.training.loop import TensorData, TrainConfig, fit

    x, y = (torch.as_tensor(a) for a in interval_order_task(np.random.default_rng(0), 32))
    cfg = TrainConfig(epochs=1, batch_size=16, progress=False, checkpoint_dir=str(tmp_path))
    fit(build(DelayTaskConfig()), TensorData(x, y), cfg)
    with pytest.raises(BiosnnInputError, match=r"another run \(model differ"):  # fractional delays, same weights
        fit(build(DelayTaskConfig(fractional=True)), TensorData(x, y), cfg)
    with pytest.raises(BiosnnInputError, match=r"another run \(model differ"):  # another hidden tau
        fit(build(DelayTaskConfig(tau_hidden=7e-3)), TensorData(x, y), cfg)
    with pytest.raises(BiosnnInputError, match=r"another run \(data differ"):
        fit(build(DelayTaskConfig()), TensorData(x, 1 - y), cfg)
    assert fit(build(DelayTaskConfig()), TensorData(x, y), cfg)["epochs_run"] == 0  # the same run: resumed, done
    (tmp_path / "last.pt").write_bytes(b"truncated")
    with pytest.raises(BiosnnInputError, match="not a biosnn checkpoint"):
        fit(build(DelayTaskConfig()), TensorData(x, y), cfg)


def test_study_results_are_keyed_on_everything(tmp_path, monkeypatch):
    from biosnn.core import results as results_module

    path = tmp_path / "study.json"
    results = StudyResults(path, "my_study", {"epochs": 15})
    key = run_key({"config": {"epochs": 15, "seed": 0}})
    results.add({"accuracy": 0.9}, key)
    again = StudyResults(path, "my_study", {"epochs": 15})
    assert again.done(key)["accuracy"] == 0.9
    assert again.done(run_key({"config": {"epochs": 15, "seed": 1}})) is None  # another run: computed
    with pytest.raises(BiosnnInputError, match="another study"):
        StudyResults(path, "other_study", {"epochs": 15})
    with pytest.raises(BiosnnInputError, match="another settings"):  # --epochs 1 never mixes with 15
        StudyResults(path, "my_study", {"epochs": 1})
    monkeypatch.setattr(results_module, "code_version", lambda: "0.0.0+changed")
    with pytest.raises(BiosnnInputError, match="another version"):
        StudyResults(path, "my_study", {"epochs": 15})
    path.write_text("{ not json")
    with pytest.raises(BiosnnInputError, match="not readable JSON"):
        StudyResults(path, "my_study")


@pytest.mark.parametrize(
    "script", ["lee_convergence", "brian2_schedule_exactness", "delay_rounding", "gamma_dt_table", "lee_digits"]
)
def test_every_study_takes_a_list_of_non_negative_seeds(script, load_script, tmp_path, capsys):
    module = load_script("validation", script)
    with pytest.raises(SystemExit) as err:
        module.main(["--out", str(tmp_path / "r.json"), "--seeds", "-1"])
    assert err.value.code == 2 and "non-negative integer" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_the_brian2_backend_imports_in_a_worker_thread():
    """Brian2's import installs a Ctrl-C handler, which only the main thread may do (dask workers
    run tasks in threads): biosnn skips it there and leaves the process's handler as it was."""
    import subprocess
    import sys

    code = (
        "import signal, threading\n"
        "before = signal.getsignal(signal.SIGINT)\n"
        "errors = []\n"
        "def work():\n"
        "    try:\n"
        "        import biosnn.brian\n"
        "    except Exception as err:\n"
        "        errors.append(repr(err))\n"
        "t = threading.Thread(target=work); t.start(); t.join()\n"
        "assert not errors, errors\n"
        "assert signal.getsignal(signal.SIGINT) is before\n"
        "assert signal.signal is signal.__dict__['signal']\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
