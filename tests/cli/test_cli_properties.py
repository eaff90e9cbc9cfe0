"""Hostile arguments through every command's parser: exit 0 or 2, never a traceback, nothing written on 2.

Hypothesis draws, for each command, an argument list whose file arguments are any of a set of file
kinds (missing, a directory, a FIFO, a link to ``/dev/zero``, an empty file, garbage bytes, a truncated
archive, a valid file, a path under a file, one of the command's other inputs) and whose numbers are
hostile (negative, zero, NaN, inf, 1e308, 2**64, words). The command runs in this process under an
alarm (a reader blocked on a FIFO fails the test rather than hanging it). A status other than 0 or 2,
or any exception, fails; on status 2 every file of the sandbox is byte-identical to before and no file
was added. The draws are derandomised: CI runs the same examples every time.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biosnn import SpikeTrains
from biosnn.cli import INTERRUPTED, main

pytestmark = pytest.mark.faults

#: examples per command: enough to reach every file kind in several options (the draws are derandomised)
EXAMPLES = 40
#: the longest one drawn command may run (the valid ones simulate a few ms of a tiny network)
ALARM_SECONDS = 120

#: file kinds every path option is drawn from; ``{d}`` is the sandbox
FILE_KINDS = (
    "missing.npz",
    "a_dir",
    "fifo",
    "zero",
    "empty.npz",
    "garbage.npz",
    "truncated.npz",
    "a_file/x.npz",
    "spikes.npz",
    "w.npy",
    "net.npz",
    "data.npz",
    "graph.nir",
    "raster.npy",
    "timing/sweep.sqlite",
    "train.h5",
    "held.npy",
    "",
)
NUMBERS = (
    "-1",
    "0",
    "1e-4",
    "1e-3",
    "0.01",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "18446744073709551616",
    "abc",
    "",
    "1e-300",
    "3",
    "-0",
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """Valid inputs for every command beside hostile files of every kind."""
    from biosnn.data.tasks import isi_task
    from biosnn.nir.exporter import write as write_nir
    from biosnn.studies.timing_tasks import TimingTaskConfig, build

    d = tmp_path_factory.mktemp("sandbox")
    SpikeTrains([0.001, 0.002], [0, 1], 2, 0.01).save(d / "spikes.npz")
    np.save(d / "w.npy", np.full((2, 3), 0.5))
    np.save(d / "held.npy", np.ones((100, 2)))
    data = isi_task(np.random.default_rng(0), 4, duration=0.1, isi_range=(1e-3, 20e-3), rate_range=(5, 30))
    data = type(data)(data.spikes.one_per_step(1e-3)[0], data.labels, data.n_classes, data.meta)
    net = build(TimingTaskConfig(task="isi", hidden=3, seed=1), data.n_inputs, data.n_classes, data.duration).export()
    net.save(d / "net.npz")
    data.save(d / "data.npz")
    write_nir(d / "graph.nir", net, dt=1e-3)
    np.save(d / "raster.npy", np.zeros((20, data.n_inputs)))
    (d / "timing").mkdir()
    assert (
        main(
            [
                "perturb",
                "--network",
                str(d / "net.npz"),
                "--data",
                str(d / "data.npz"),
                "--train-dt",
                "1e-3",
                "--db",
                str(d / "timing" / "sweep.sqlite"),
                "--grid",
                "deletion=0.5",
                "--backends",
                "torch",
                "--quiet",
            ]
        )
        == 0
    )
    from shd_layout import random_shd_samples, write_shd_file

    samples, labels = random_shd_samples(np.random.default_rng(0), 8, n_channels=20, n_classes=2)
    write_shd_file(d / "train.h5", samples, labels)
    (d / "a_dir").mkdir()
    (d / "a_file").write_text("a file")
    os.mkfifo(d / "fifo")
    (d / "zero").symlink_to("/dev/zero")
    (d / "empty.npz").write_bytes(b"")
    (d / "garbage.npz").write_bytes(os.urandom(512))
    (d / "truncated.npz").write_bytes((d / "net.npz").read_bytes()[:300])
    return d


def _paths(kinds=FILE_KINDS):
    return st.sampled_from(kinds).map(lambda k: "{d}/" + k if k else "")


def _option(name, values):
    return st.tuples(st.just(name), values)


def _command(head, required, optional):
    """``head`` + every ``required`` option + any subset of ``optional`` (each ``(name, strategy)``)."""
    chosen = (
        st.lists(st.sampled_from(optional), unique_by=lambda o: o[0], max_size=len(optional)).flatmap(
            lambda picked: st.tuples(*(_option(n, v) for n, v in picked))
        )
        if optional
        else st.just(())
    )
    return st.tuples(st.tuples(*(_option(n, v) for n, v in required)), chosen).map(
        lambda parts: head + [x for pair in (*parts[0], *parts[1]) for x in pair]
    )


NUMBER = st.sampled_from(NUMBERS)
OUT = _paths(("out.npz", "a_dir", "a_file/x.npz", "spikes.npz", "w.npy", "fifo", "zero", "new/out.npz"))
OUT_DIR = _paths(("report", "a_dir", "a_file", "a_file/x", "spikes.npz", "timing", ""))

COMMANDS = {
    "simulate": _command(
        ["simulate", "lif"],
        [
            ("--input", _paths()),
            ("--weights", _paths()),
            ("--dt", NUMBER),
            ("--duration", NUMBER),
            ("--backend", st.sampled_from(["torch", "brian2", "nest"])),
            ("--out", OUT),
        ],
        [
            ("--synapse", st.sampled_from(["delta", "held", "current", "x"])),
            ("--param", st.sampled_from(["tau_m=0.01", "tau_m=-1", "tau_m=nan", "x=1", "tau_m"])),
            ("--threads", NUMBER),
            ("--dtype", st.sampled_from(["float32", "float16"])),
        ],
    ),
    "perturb": _command(
        ["perturb", "--quiet", "--backends", "torch"],
        [
            ("--network", _paths()),
            ("--data", _paths()),
            ("--train-dt", NUMBER),
            (
                "--db",
                _paths(
                    (
                        "new.sqlite",
                        "timing/sweep.sqlite",
                        "fifo",
                        "zero",
                        "garbage.npz",
                        "net.npz",
                        "a_dir",
                        "empty.npz",
                    )
                ),
            ),
            (
                "--grid",
                st.sampled_from(
                    ["deletion=0.5", "deletion=2", "deletion=nan", "bogus=1", "deletion", "spike_jitter=-1"]
                ),
            ),
        ],
        [("--seeds", NUMBER), ("--export", OUT), ("--jobs", NUMBER), ("--copies", NUMBER), ("--train-data", _paths())],
    ),
    "normalize": _command(
        ["data", "normalize", "--quiet"],
        [("--train", _paths()), ("--test", _paths()), ("--out", OUT_DIR)],
        [
            ("--bins", NUMBER),
            ("--channels", NUMBER),
            ("--duration", NUMBER),
            ("--theta", NUMBER),
            ("--epsilon", NUMBER),
            ("--seed", NUMBER),
        ],
    ),
    "report": _command(
        ["report"],
        [("--results", _paths(("", "a_dir", "timing", "fifo", "missing.npz"))), ("--out", OUT)],
        [("--figures", _paths(("a_dir", "fifo", "zero", "missing.npz")))],
    ),
    "figures": _command(
        ["figures", "--quiet", "--only", "fig_perturbation_accuracy"],
        [("--results", _paths(("", "a_dir", "fifo", "missing.npz"))), ("--out", OUT_DIR)],
        [],
    ),
    "validate-nir": _command(
        ["validate-nir", "--framework", "snntorch"],
        [("--input", _paths()), ("--out", OUT_DIR)],
        [("--dt", NUMBER), ("--threads", NUMBER)],
    ),
    "validate": _command(
        ["validate", "--models", "li", "--quiet"],
        [("--out", OUT_DIR)],
        [("--seed", NUMBER), ("--threads", NUMBER), ("--target", st.sampled_from(["numpy", "x"]))],
    ),
}


#: commands whose status 1 is a result (the comparison ran and failed: "FAIL"), not an error
COMPARISONS = ("validate", "validate-nir")


def _snapshot(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.exists():
            out[path] = "link"
        elif path.is_dir():
            out[path] = "dir"
        elif path.is_file():
            out[path] = path.read_bytes()
        else:
            out[path] = "special"
    return out


def _alarm(*_):
    raise AssertionError("the command hung (a reader blocked on a non-regular file?)")


def _run(argv: list[str]) -> int:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(ALARM_SECONDS)
    try:
        return main(argv)
    except SystemExit as err:  # argparse: --help (0) or a usage error (2)
        return err.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hostile_arguments_exit_0_or_2_and_write_nothing_on_2(sandbox, command, capsys):
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(argv=COMMANDS[command])
    def check(argv):
        argv = [a.replace("{d}", str(sandbox)) for a in argv]
        if command == "validate-nir":
            argv.insert(1, str(sandbox / "graph.nir"))
        before = _snapshot(sandbox)
        code = _run(argv)
        err = capsys.readouterr().err
        assert code in (0, 2) or (code == 1 and command in COMPARISONS), (argv, code, err)
        assert code != INTERRUPTED and "Traceback" not in err, (argv, err)
        if code == 2:
            assert _snapshot(sandbox) == before, argv
        elif code == 0 or code == 1:  # a command that ran: its outputs go, the inputs stay
            for path in sorted(set(_snapshot(sandbox)) - set(before), reverse=True):  # files before their folders
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()
                else:
                    path.unlink()

    check()
