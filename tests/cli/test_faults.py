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

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.faults


# -- 1. a planted checkpoint cannot run code -------------------------------------------------------------
class _Payload:
    """Unpickling this object writes a file: what a planted ``last.pt`` would do under an unpickler that builds any object."""

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


@pytest.mark.parametrize(
    "state, match",
    [
        ({"run_key": "abc"}, "does not hold a biosnn training state"),
        ([1, 2, 3], "does not hold a biosnn training state"),
        (
            {
                k: 0
                for k in ("model", "optimizer", "scheduler", "generator", "torch_rng", "history", "epoch", "run_key")
            },
            "run key is not a dict",
        ),
    ],
)
def test_a_foreign_checkpoint_is_refused_clearly(tmp_path, state, match):
    torch.save(state, tmp_path / "last.pt")
    with pytest.raises(BiosnnInputError, match=match):
        _tiny_fit(tmp_path)


def test_a_checkpoint_resumes_with_safe_loading(tmp_path):
    """The real state (optimizer, scheduler, generator, history) loads under ``weights_only=True``."""
    _tiny_fit(tmp_path)
    assert _tiny_fit(tmp_path)["epochs_run"] == 0


# -- 3. no command overwrites its own inputs ---------------------------------------------------------------
@pytest.fixture(scope="module")
def sweep_files(tmp_path_factory):
    """A tiny network and test set for `biosnn perturb`, a stored sweep table, and a results JSON."""
    from biosnn.data.tasks import isi_task
    from biosnn.studies.timing_tasks import TimingTaskConfig, build

    folder = tmp_path_factory.mktemp("inputs")
    data = isi_task(np.random.default_rng(0), 6, duration=0.1, isi_range=(1e-3, 20e-3), rate_range=(5, 30))
    data = type(data)(data.spikes.one_per_step(1e-3)[0], data.labels, data.n_classes, data.meta)
    net = build(TimingTaskConfig(task="isi", hidden=4, seed=3), data.n_inputs, data.n_classes, data.duration).export()
    net.save(folder / "net.npz")
    data.save(folder / "data.npz")
    (folder / "timing").mkdir()
    assert (
        main(
            [
                "perturb",
                "--network",
                str(folder / "net.npz"),
                "--data",
                str(folder / "data.npz"),
                "--train-dt",
                "1e-3",
                "--db",
                str(folder / "timing" / "sweep.sqlite"),
                "--grid",
                "deletion=0.5",
                "--backends",
                "torch",
                "--quiet",
            ]
        )
        == 0
    )
    return folder


def _digests(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(argv, folder):
    try:
        return main([a.replace("{d}", str(folder)) for a in argv])
    except SystemExit as err:
        return err.code


PERTURB = [
    "perturb",
    "--network",
    "{d}/net.npz",
    "--data",
    "{d}/data.npz",
    "--train-dt",
    "1e-3",
    "--grid",
    "deletion=0.5",
    "--backends",
    "torch",
    "--quiet",
]


@pytest.mark.parametrize(
    "argv, message",
    [
        (PERTURB + ["--db", "{d}/timing/sweep.sqlite", "--export", "{d}/timing/sweep.sqlite"], "is the --db"),
        (PERTURB + ["--db", "{d}/net.npz"], "is the --network"),
        (PERTURB + ["--db", "{d}/new.sqlite", "--export", "{d}/data.npz"], "is the --data"),
        (PERTURB + ["--db", "{d}/new.sqlite", "--train-data", "{d}/data.npz"], "is the --data"),
        (["report", "--results", "{d}", "--out", "{d}/timing/sweep.sqlite"], "is the input"),
        (["figures", "--results", "{d}", "--out", "{d}/net.npz"], "is a file, not a directory"),
    ],
)
def test_an_output_never_replaces_an_input(sweep_files, capsys, argv, message):
    before = _digests(sweep_files)
    assert _run(argv, sweep_files) == 2
    assert message in capsys.readouterr().err
    assert _digests(sweep_files) == before


def test_a_directory_output_replaces_only_its_own_command_output(sweep_files, tmp_path, capsys):
    """`validate --out` onto a folder of the user's, or onto another command's output, is refused."""
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter.tex").write_text("precious")
    assert main(["validate", "--models", "li", "--quiet", "--out", str(mine)]) == 2
    assert "not written by this command" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["chapter.tex"]
    (mine / "chapter.tex").unlink()
    (mine / ".biosnn-output").write_text("biosnn data normalize\n")  # another command's directory
    assert main(["validate", "--models", "li", "--quiet", "--out", str(mine)]) == 2
    assert "written by `biosnn data normalize`" in capsys.readouterr().err


# -- 7. non-regular files and huge figures -----------------------------------------------------------------
def _guarded(argv, folder, seconds=60):
    """``main(argv)`` with an alarm: a reader blocked on a FIFO fails the test instead of hanging it."""

    def hung(*_):
        raise AssertionError(f"{argv[0]} hung on a non-regular file")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        return _run(argv, folder)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "argv, message",
    [
        (PERTURB + ["--db", "{d}/new.sqlite"], "is a FIFO"),
        (
            ["validate-nir", "{d}/special/graph.nir", "--input", "{d}/special/x.npy", "--framework", "snntorch"],
            "is a FIFO",
        ),
        (["report", "--results", "{d}/special", "--out", "{d}/r.html"], "no results found"),  # a FIFO is no result
        (["report", "--results", "{d}", "--figures", "{d}/special", "--out", "{d}/r.html"], "is a character device"),
    ],
)
def test_non_regular_inputs_are_refused_before_opening(sweep_files, tmp_path, capsys, argv, message):
    special = tmp_path / "special"
    special.mkdir()
    for name in ("graph.nir", "x.npy", "report.json"):
        os.mkfifo(special / name)
    (special / "fig.png").symlink_to("/dev/zero")
    net = tmp_path / "net.npz"
    if "is a FIFO" in message and argv[0] == "perturb":
        os.mkfifo(net)
    else:
        net.write_bytes((sweep_files / "net.npz").read_bytes())
    (tmp_path / "data.npz").write_bytes((sweep_files / "data.npz").read_bytes())
    (tmp_path / "timing").mkdir()
    (tmp_path / "timing" / "sweep.sqlite").write_bytes((sweep_files / "timing" / "sweep.sqlite").read_bytes())
    assert _guarded(argv, tmp_path) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "new.sqlite").exists()


# -- 2. Ctrl-C stops a Brian2 run; nothing partial is stored -------------------------------------------------
#: how long after Ctrl-C a command may take to exit (it stops within the step in progress; the rest is
#: Python unwinding and removing temporary files)
STOP_SECONDS = 10.0


def _simulate_argv(folder: Path, *, duration: str, backend: str, out: Path) -> list[str]:
    """``biosnn simulate lif`` of ``folder``'s ``s.npz`` through ``w.npy`` at dt = 0.1 ms."""
    return [
        "simulate",
        "lif",
        "--input",
        str(folder / "s.npz"),
        "--weights",
        str(folder / "w.npy"),
        "--dt",
        "1e-4",
        "--duration",
        duration,
        "--backend",
        backend,
        "--out",
        str(out),
    ]


def _biosnn(*argv, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "biosnn.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
        **kwargs,
    )


def _interrupt_when(process, ready, timeout=120.0) -> float:
    """Send SIGINT to the process group (as a terminal's Ctrl-C does) once ``ready()``; the seconds to exit."""
    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()
    os.killpg(process.pid, signal.SIGINT)
    sent = time.monotonic()
    process.wait(timeout=60)
    return time.monotonic() - sent


@pytest.mark.slow
def test_ctrl_c_stops_brian2_simulate_with_status_130_and_no_output(tmp_path):
    """Brian2's own handler would end the run early and the command would read a truncated trace
    ("Brian2 recorded 30217 steps of v, expected 200000"); now Ctrl-C stops it, says so, writes nothing."""
    SpikeTrains(np.linspace(0.001, 19.0, 2000), np.zeros(2000, int), 1, 20.0).save(tmp_path / "s.npz")
    np.save(tmp_path / "w.npy", np.full((1, 4), 0.3))
    out = tmp_path / "trace.npz"
    process = _biosnn(
        *_simulate_argv(tmp_path, duration="20", backend="brian2", out=out),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    time.sleep(8.0)  # imports (about 3 s) and the start of the 200,000-step run (about 40 s in all)
    seconds = _interrupt_when(process, lambda: True)
    stdout, stderr = process.communicate()
    assert process.returncode == INTERRUPTED, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert seconds < STOP_SECONDS
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_brian2_run_stopped_early_is_never_read(monkeypatch):
    """`Network.stop()` (another handler, a monitor callback) ends a run early: the runner raises
    instead of returning the truncated activity (the unrecorded path read ``final_v`` regardless)."""
    import brian2

    from biosnn.brian.network import SimulationIncomplete

    original = brian2.Network.run

    def stops_half_way(self, duration, **kwargs):
        @brian2.network_operation(when="end")
        def stop_at_half(t):
            if t >= duration / 2:
                self.stop()

        self.add(stop_at_half)
        return original(self, duration, **kwargs)

    monkeypatch.setattr(brian2.Network, "run", stops_half_way)
    with pytest.raises(SimulationIncomplete, match=r"stopped after 5\d of 100 steps"):
        import biosnn

        biosnn.simulate("lif", SpikeTrains([0.001], [0], 1, 0.01), [[1.5]], backend="brian2", dt=1e-4, duration=0.01)


# -- 7. a full disk: a clear exit 2, nothing partial -------------------------------------------------------
@pytest.fixture
def full_disk(tmp_path):
    """A 64 kB file system (tmpfs; needs root, as CI runs): writes beyond it fail with ENOSPC."""
    mount = tmp_path / "full"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(full_disk, tmp_path, capsys):
    SpikeTrains(np.linspace(0.001, 0.09, 50), np.zeros(50, int), 1, 0.1).save(tmp_path / "s.npz")
    np.save(tmp_path / "w.npy", np.full((1, 50), 0.3))
    code = main(_simulate_argv(tmp_path, duration="0.1", backend="torch", out=full_disk / "trace.npz"))
    err = capsys.readouterr().err
    assert code == 2 and "no space left on the device" in err, err
    assert list(full_disk.iterdir()) == []
    code = main(["validate", "--models", "li", "--quiet", "--out", str(full_disk / "report")])
    err = capsys.readouterr().err
    assert code == 2 and "no space left on the device" in err, err
    assert list(full_disk.iterdir()) == []


def test_a_full_disk_leaves_no_empty_figure_folder_nor_database(full_disk, sweep_files, capsys):
    from biosnn.reporting.figures import STORED_RESULTS

    out = full_disk / "figs"
    code = main(
        ["figures", "--results", str(STORED_RESULTS), "--quiet", "--only", "fig_lee_convergence", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "no space left on the device" in err, err
    assert list(full_disk.iterdir()) == []
    filler = full_disk / "filler"  # leave a few kB: the database's creation may start, then fail
    with open(filler, "wb") as handle:
        with pytest.raises(OSError):
            handle.write(os.urandom(1 << 20))
    filler.unlink()
    (full_disk / "ballast").write_bytes(b"x" * (60 << 10))
    code = _run(PERTURB + ["--db", str(full_disk / "r.sqlite")], sweep_files)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert sorted(p.name for p in full_disk.iterdir()) == ["ballast"]


# -- 5. silently duplicated work ---------------------------------------------------------------------------
def test_a_model_named_twice_is_validated_once():
    from biosnn.equivalence.validate import select

    assert select(["li", "li", "if", "li"]) == (["li", "if"], [])


# -- 9. hostile results files are bad input, not tracebacks ------------------------------------------------
@pytest.mark.parametrize(
    "text, message",
    [
        ('{"models": {"li": {"n_cases": ' + "9" * 401 + "}}}", "an integer of 401 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
        ('{"models": ', "not readable JSON"),
    ],
)
def test_a_hostile_results_file_is_bad_input(tmp_path, capsys, text, message):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "report.json").write_text(text)
    assert main(["report", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "r.html")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


# -- review findings: device outputs, symlinked directories, owned folders, ignored Ctrl-C -------------------
def test_an_output_that_is_not_a_regular_file_is_never_replaced(tmp_path, capsys):
    """As root, an atomic write over ``--out /dev/null`` would delete the device: a FIFO stands in for it."""
    SpikeTrains([0.001], [0], 1, 0.01).save(tmp_path / "s.npz")
    np.save(tmp_path / "w.npy", np.full((1, 2), 0.3))
    os.mkfifo(tmp_path / "out.npz")
    argv = _simulate_argv(tmp_path, duration="0.01", backend="torch", out=tmp_path / "out.npz")
    assert main(argv) == 2 and "is a FIFO" in capsys.readouterr().err
    assert (tmp_path / "out.npz").is_fifo()


def test_a_symlinked_directory_output_and_a_file_inside_an_owned_folder_are_refused(tmp_path, capsys):
    report = tmp_path / "report"
    assert main(["validate", "--models", "li", "--quiet", "--out", str(report)]) == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "mine")
    assert main(["validate", "--models", "li", "--quiet", "--out", str(tmp_path / "link")]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert (tmp_path / "link").is_symlink() and list((tmp_path / "mine").iterdir()) == []
    before = (report / "report.md").read_bytes()
    for name in ("report.md", ".biosnn-output", "page.html"):
        assert main(["report", "--results", str(report), "--out", str(report / name)]) == 2
        assert "inside a directory written" in capsys.readouterr().err
    assert (report / "report.md").read_bytes() == before and not (report / "page.html").exists()


@pytest.mark.slow
def test_an_ignored_ctrl_c_stays_ignored_after_brian2_is_imported(tmp_path):
    """A background job starts with SIGINT ignored; Brian2's import-time handler then crashed on Ctrl-C
    (``TypeError: 'Handlers' object is not callable``). biosnn puts the previous disposition back."""
    SpikeTrains(np.linspace(0.001, 2.9, 300), np.zeros(300, int), 1, 3.0).save(tmp_path / "s.npz")
    np.save(tmp_path / "w.npy", np.full((1, 4), 0.3))
    process = _biosnn(
        *_simulate_argv(tmp_path, duration="3", backend="brian2", out=tmp_path / "t.npz"),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    time.sleep(5.0)  # Brian2 imported, the 30,000-step run in progress
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0 and "Traceback" not in stderr, stderr
    assert (tmp_path / "t.npz").exists()


def test_a_closed_pipe_ends_the_output_quietly():
    """`biosnn models | true`: the reader is gone before the first line (as `| head` soon is); no
    BrokenPipeError traceback, and the shell's status of a filter cut short (141)."""
    process = subprocess.run(
        f"{sys.executable} -m biosnn models | true; echo ${{PIPESTATUS[0]}}",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        executable="/bin/bash",
    )
    assert "Traceback" not in process.stderr and process.stdout.split() == ["141"], process.stderr


def test_a_ctrl_c_swallowed_by_a_finalizer_still_stops_the_command():
    """Ctrl-C landing in a ``__del__`` or weakref callback (garbage collection runs often inside Brian2) is
    printed as "Exception ignored" and swallowed by Python; a sweep then ran to its end and exited 0. The
    command's handler records the request, so the command still stops with status 130. (In a process of its
    own: the signal goes to that process alone.)"""
    code = (
        "import os, signal, sys\n"
        "import biosnn.cli\n"
        "class Finalized:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "def a_command(args):\n"
        "    Finalized()\n"
        "    return 0\n"
        "biosnn.cli.cmd_models = a_command\n"
        "code = biosnn.cli.main(['models'])\n"
        "print(code, signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.stdout.split() == [str(INTERRUPTED), "True"], result.stderr[-2000:]
    assert "interrupted" in result.stderr
