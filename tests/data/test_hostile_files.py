"""Hostile and malformed HDF5 files: the SHD/SSC reader, ``biosnn data normalize`` and the NIR reader refuse
them with a clear error (exit 2 from the command line), never a traceback, a crash, a silent truncation or a
local file's bytes read into an output (biosnn/data/shd.py, biosnn/nir/importer.py, biosnn/nir/chain.py).

Sizes a tiny file declares are checked against memory before anything is allocated; the memory available is
pinned (:data:`MEMORY`) so that the refusals do not depend on the machine running the tests."""

import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from shd_layout import write_shd_file

import biosnn.core.resources
from biosnn.cli import main
from biosnn.core.errors import BiosnnInputError
from biosnn.data.shd import NormalizeConfig, normalize, read_chunks, read_dataset

ROOT = Path(__file__).resolve().parents[2]
#: the memory the size refusals are judged against (pinned: the tests must not depend on the machine)
MEMORY = 2 << 30
#: what a planted local file holds: it must never reach an output
SECRET = b"TOPSECRET-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"


@pytest.fixture
def pinned_memory(monkeypatch):
    monkeypatch.setattr(biosnn.core.resources, "available_memory", lambda: MEMORY)


def _secrets(folder: Path) -> tuple[Path, Path]:
    """A planted plain file and a planted HDF5 file (its ``data`` a dataset of the secret bytes)."""
    plain = folder / "secret.txt"
    plain.write_bytes(SECRET)
    other = folder / "secret.h5"
    with h5py.File(other, "w") as h5:
        h5.create_dataset("data", data=np.frombuffer(SECRET, np.uint8))
    return plain, other


def _held(path: Path) -> list[str]:
    """This process's open file descriptors on ``path`` (Linux: /proc/self/fd)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("no /proc/self/fd to list open files")
    return [fd.name for fd in fds.iterdir() if os.path.realpath(fd) == os.path.realpath(path)]


def _replace(h5, key, **kwargs):
    del h5[key]
    return h5.create_dataset(key, **kwargs)


# -- SHD/SSC files ---------------------------------------------------------------------------------------
N = 4  # samples in a test file


def _external_link(h5, folder):
    del h5["labels"]
    h5["labels"] = h5py.ExternalLink(str(_secrets(folder)[1]), "/data")


def _external_storage(h5, folder):
    del h5["labels"]
    h5.create_dataset("labels", (N,), np.uint8, external=[(str(_secrets(folder)[0]), 0, N)])


def _virtual(h5, folder):
    del h5["labels"]
    layout = h5py.VirtualLayout(shape=(N,), dtype=np.uint8)
    layout[:] = h5py.VirtualSource(str(_secrets(folder)[1]), "data", shape=(len(SECRET),))[:N]
    h5.create_virtual_dataset("labels", layout)


def _vlen(h5, key, rows, dtype):
    del h5[key]
    data = h5.create_dataset(key, (len(rows),), h5py.vlen_dtype(dtype))
    for k, row in enumerate(rows):
        data[k] = np.asarray(row, dtype)


COMPOUND = np.dtype([("a", "<i4"), ("b", "<f4")])

#: case -> (how a valid file is damaged, what the error says)
SHD_CASES = {
    "external link": (_external_link, "labels is an external link"),
    "external storage": (_external_storage, "keeps its data in external files"),
    "virtual dataset": (_virtual, "virtual dataset"),
    "2-D labels": (lambda h5, _: _replace(h5, "labels", data=np.zeros((N, 2), int)), r"labels has shape \(4, 2\)"),
    "scalar labels": (lambda h5, _: _replace(h5, "labels", data=0), r"labels has shape \(\)"),
    "fewer labels": (
        lambda h5, _: _replace(h5, "labels", data=np.zeros(N - 1, int)),
        "3 labels but spikes/times holds 4 samples",
    ),
    "float labels": (lambda h5, _: _replace(h5, "labels", data=np.zeros(N)), "labels are of type float64"),
    "compound labels": (lambda h5, _: _replace(h5, "labels", data=np.zeros(N, COMPOUND)), "labels are of type"),
    "label 2**31": (
        lambda h5, _: _replace(h5, "labels", data=np.array([0, 1, 2**31, 0])),
        "labels that are not non-negative integers below 65536",
    ),
    "times a group": (
        lambda h5, _: (h5.__delitem__("spikes/times"), h5.create_group("spikes/times")),
        "spikes/times is a group, not a dataset",
    ),
    "fixed-size 2-D times": (
        lambda h5, _: _replace(h5, "spikes/times", data=np.zeros((N, 2), np.float32)),
        "spikes/times is a fixed-size float32 dataset of shape",
    ),
    "compound times": (
        lambda h5, _: _replace(h5, "spikes/times", data=np.zeros(N, COMPOUND)),
        "spikes/times is a fixed-size",
    ),
    "compound unit rows": (
        lambda h5, _: _vlen(h5, "spikes/units", [np.zeros(2, COMPOUND)] * N, COMPOUND),
        "spikes/units holds values of type",
    ),
    "text unit rows": (
        lambda h5, _: (
            h5.__delitem__("spikes/units"),
            h5.create_dataset("spikes/units", data=np.array(["a"] * N, dtype=h5py.string_dtype())),
        ),
        "spikes/units holds values of type",
    ),
    "unit 3.5": (lambda h5, _: _vlen(h5, "spikes/units", [[1, 3.5]] * N, np.float32), "channel id 3.5"),
    "unit NaN": (lambda h5, _: _vlen(h5, "spikes/units", [[1, np.nan]] * N, np.float32), "channel id nan"),
    "times in ms": (
        lambda h5, _: _vlen(h5, "spikes/times", [[100.0, 1400.0]] * N, np.float32),
        "up to 1400.*look like milliseconds",
    ),
}


def _shd(path: Path, damage=None, n: int = N) -> Path:
    """A valid file in the SHD layout (two spikes per sample), then damaged by ``damage(h5, folder)``."""
    write_shd_file(path, [(np.array([0.1, 0.5]), np.array([1, 2]))] * n, [k % 2 for k in range(n)])
    if damage:
        with h5py.File(path, "r+") as h5:
            damage(h5, path.parent)
    return path


@pytest.mark.parametrize("case", SHD_CASES)
def test_the_spike_file_reader_refuses(tmp_path, case):
    damage, match = SHD_CASES[case]
    path = _shd(tmp_path / "bad.h5", damage)
    error = None
    try:
        list(read_chunks(path, duration=1.4))
    except BiosnnInputError as err:
        error = err  # kept, with its traceback's frames (and whatever they hold)
    assert error is not None and re.search(match, str(error)), error
    assert not _held(path)  # the reader closed the file on its way out


def test_whole_float_unit_ids_are_read_as_the_channels_they_name(tmp_path):
    path = _shd(tmp_path / "float_units.h5", lambda h5, _: _vlen(h5, "spikes/units", [[1.0, 3.0]] * N, np.float64))
    ((_, _, units, _, _),) = read_chunks(path)
    assert units.dtype == np.int64 and units.tolist() == [1, 3] * N


def test_read_dataset_refuses_times_in_milliseconds(tmp_path):
    path = _shd(tmp_path / "ms.h5", SHD_CASES["times in ms"][0])
    with pytest.raises(BiosnnInputError, match="look like milliseconds"):
        read_dataset(path, duration=1.4)
    assert read_dataset(_shd(tmp_path / "s.h5"), duration=1.4).meta["dropped_spikes"] == 0


def _declares_3e6_samples(path: Path) -> Path:
    """A ~10 kB file declaring 3,000,000 samples (nothing written: HDF5 fills them in)."""
    with h5py.File(path, "w") as h5:
        for key, dtype in (("spikes/times", np.float32), ("spikes/units", np.uint16)):
            h5.create_dataset(key, (3_000_000,), h5py.vlen_dtype(dtype), chunks=(4096,))
        h5.create_dataset("labels", (3_000_000,), np.uint16, chunks=(65536,), compression="gzip")
    assert path.stat().st_size < 20_000
    return path


def _hard_link(folder: Path) -> Path:
    os.link(folder / "ok.h5", folder / "hard.h5")
    return folder / "hard.h5"


def _symlink(folder: Path) -> Path:
    (folder / "sym.h5").symlink_to(folder / "ok.h5")
    return folder / "sym.h5"


#: command-line case -> (the --train file, given the folder holding ok.h5; further options; what stderr says)
CLI_CASES = {
    "3 kB file declaring 3e6 samples": (
        lambda d: _declares_3e6_samples(d / "big.h5"),
        [],
        r"normalising 3000010 samples x 700 channels .* needs about",
    ),
    "--channels 1e9": (
        lambda d: _shd(d / "train.h5"),
        ["--channels", "1000000000"],
        r"14 samples x 1000000000 channels .* needs about",
    ),
    "--bins 1e8": (lambda d: _shd(d / "train.h5"), ["--bins", "100000000"], r"100000000 bins .* needs about"),
    "the same file twice": (lambda d: d / "ok.h5", [], "is the same file as"),
    "a hard link to the other file": (_hard_link, [], "is the same file as"),
    "a symbolic link to the other file": (_symlink, [], "is the same file as"),
    **{
        f"damaged: {case}": ((lambda d, damage=damage: _shd(d / "bad.h5", damage)), [], match)
        for case, (damage, match) in SHD_CASES.items()
    },
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_data_normalize_refuses(tmp_path, capsys, pinned_memory, case):
    train, options, match = CLI_CASES[case]
    ok = _shd(tmp_path / "ok.h5", n=10)
    out = tmp_path / "out"
    code = main(
        [
            "data",
            "normalize",
            "--train",
            str(train(tmp_path)),
            "--test",
            str(ok),
            "--out",
            str(out),
            "--quiet",
            *options,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and re.search(match, err), err
    assert "Traceback" not in err and SECRET.decode()[:9] not in err
    assert not out.exists()


def test_normalize_refuses_a_file_given_twice_from_python(tmp_path):
    ok = _shd(tmp_path / "ok.h5", n=10)
    with pytest.raises(BiosnnInputError, match="counted twice"):
        normalize([ok, tmp_path / "." / "ok.h5"], tmp_path / "out", NormalizeConfig(n_channels=4))


# -- a full disk ---------------------------------------------------------------------------------------
#: a file system too small for the normalised files (about 1 MB) but large enough for the first of them
FULL_DISK = "400k"


@pytest.fixture
def full_disk(tmp_path):
    """A real small file system (tmpfs), mounted for the test; skipped where mounting is not permitted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FULL_DISK}", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if made.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root and CAP_SYS_ADMIN): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _normalize_inputs(folder: Path) -> list[str]:
    rng = np.random.default_rng(0)
    samples = []
    for _k in range(60):
        units = np.repeat(np.arange(40), rng.poisson(20, 40))
        samples.append((np.sort(rng.uniform(0, 1.4, units.size)), rng.permutation(units)))
    write_shd_file(folder / "train.h5", samples[:40], np.arange(40) % 4)
    write_shd_file(folder / "test.h5", samples[40:], np.arange(20) % 4)
    return [
        "data",
        "normalize",
        "--train",
        str(folder / "train.h5"),
        "--test",
        str(folder / "test.h5"),
        "--channels",
        "40",
        "--epsilon",
        "0.05",
        "--quiet",
    ]


@pytest.mark.parametrize("precheck", [True, False], ids=["free-space check", "a write that fails"])
def test_normalize_onto_a_full_disk_exits_2_and_leaves_nothing(tmp_path, full_disk, precheck):
    """A full disk is refused up front (free space against the files' size) or, when the space goes meanwhile
    (the check switched off), by the write itself: exit 2 with the reason, no crash inside HDF5 (it used to
    end in a segmentation fault, exit 139), no traceback, nothing left on the disk."""
    args = _normalize_inputs(tmp_path) + ["--out", str(full_disk / "out")]
    code = (
        "import sys, biosnn.data.shd as shd\n"
        + ("" if precheck else "shd._check_room = lambda *args: None\n")
        + "from biosnn.cli import main\nsys.exit(main(sys.argv[1:]))"
    )
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "no space left on the device" in run.stderr and "nothing" in run.stderr
    reason = (
        r"the normalised files need about [\d.]+ MiB and its file system has [\d.]+ MiB free"
        if precheck
        else "cannot write .*/disk/out'"
    )
    assert re.search(reason, run.stderr), run.stderr
    assert "Traceback" not in run.stderr and "HDF5" not in run.stderr
    assert os.listdir(full_disk) == []  # no output, no temporary directory
    ok = main(args[:-2] + ["--out", str(tmp_path / "out")])  # the same run where there is room
    assert ok == 0 and sum(f.stat().st_size for f in (tmp_path / "out").iterdir()) > 400_000


# -- NIR files ---------------------------------------------------------------------------------------------
nir = pytest.importorskip("nir", reason="the NIR bridge needs the nir package (pip install 'biosnn[nir]')")

from biosnn.nir import Discretization, from_nir  # noqa: E402

WEIGHT = "node/nodes/linear/weight"


def _nir(path: Path, damage=None) -> Path:
    """A valid NIR file (Input 2 -> Linear 3 x 2 -> LIF 3 -> Output), then damaged by ``damage(h5, folder)``."""
    lif = nir.LIF(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3), v_reset=np.zeros(3))
    nir.write(path, nir.NIRGraph.from_list(nir.Linear(weight=np.full((3, 2), 0.5)), lif, type_check=False))
    if damage:
        with h5py.File(path, "r+") as h5:
            damage(h5, path.parent)
    return path


def _nir_external_link(h5, folder):
    del h5[WEIGHT]
    h5[WEIGHT] = h5py.ExternalLink(str(_secrets(folder)[1]), "/data")


def _nir_external_storage(h5, folder):
    del h5[WEIGHT]
    h5.create_dataset(WEIGHT, (3, 2), np.float64, external=[(str(_secrets(folder)[0]), 0, 48)])


def _nir_virtual(h5, folder):
    del h5[WEIGHT]
    layout = h5py.VirtualLayout(shape=(3, 2), dtype=np.uint8)
    layout[0, :] = h5py.VirtualSource(str(_secrets(folder)[1]), "data", shape=(len(SECRET),))[:2]
    h5.create_virtual_dataset(WEIGHT, layout)


def _nir_huge_weight(h5, _):
    """20000 x 20000 float64 (3.2 GB) declared by a file of a few kB (nothing written: HDF5 fills it in)."""
    _replace(h5, WEIGHT, shape=(20000, 20000), dtype=np.float64, chunks=(1000, 1000), compression="gzip", fillvalue=0.5)


#: case -> (how a valid file is damaged, what the error says)
NIR_CASES = {
    "external link": (_nir_external_link, "weight is an external link"),
    "external storage": (_nir_external_storage, "keeps its data in external files"),
    "virtual dataset": (_nir_virtual, "virtual dataset"),
    "text weight": (
        lambda h5, _: _replace(h5, WEIGHT, data=np.array([[b"a", b"b"]] * 3)),
        r"NIR node 'linear' \(Linear\): weight holds values of type \|S1",
    ),
    "text tau": (
        lambda h5, _: _replace(h5, "node/nodes/lif/tau", data=np.array([b"x"] * 3)),
        r"NIR node 'lif' \(LIF\): tau holds values of type",
    ),
    "text input shape": (
        lambda h5, _: _replace(h5, "node/nodes/input/shape", data=np.array([b"2"])),
        r"NIR node 'input' \(Input\): input_type\['input'\] holds",
    ),
    "20000 x 20000 weight": (_nir_huge_weight, r"declares 32000001\d\d bytes of data, more than"),
    "an input of 200000 into a neuron node": (
        lambda h5, _: (
            _replace(h5, "node/nodes/input/shape", data=np.array([200_000])),
            _replace(h5, "node/nodes/output/shape", data=np.array([200_000])),
            h5.__delitem__("node/nodes/linear"),
            h5.__delitem__("node/edges"),
            h5.create_dataset("node/edges", data=np.array([[b"input", b"lif"], [b"lif", b"output"]])),
        ),
        "a layer of 3 neurons fed by 200000 .* needs about|a layer of 200000 neurons .* needs about",
    ),
}


@pytest.mark.parametrize("case", NIR_CASES)
def test_the_nir_reader_refuses(tmp_path, pinned_memory, case):
    damage, match = NIR_CASES[case]
    path = _nir(tmp_path / "bad.nir", damage)
    error = None
    try:
        from_nir(path, Discretization.exact(1e-4))
    except BiosnnInputError as err:
        error = err  # kept, with its traceback's frames
    assert error is not None and re.search(match, str(error)), error
    assert not _held(path)  # the reader closed the file on its way out


def test_the_nir_reader_still_reads_a_valid_file(tmp_path):
    assert from_nir(_nir(tmp_path / "ok.nir"), Discretization.exact(1e-4)).net.weights[0].shape == (2, 3)


def test_a_convolution_whose_identity_basis_does_not_fit_is_refused(monkeypatch):
    """A strided convolution of a 50 x 100 input into 5 x 10: a small dense matrix (50 x 5000, below
    MAX_DENSE_ENTRIES), but built from the 5000 x 5000 identity basis (200 MB): refused in 100 MB."""
    monkeypatch.setattr(biosnn.core.resources, "available_memory", lambda: 100 << 20)
    lif = nir.LIF(
        tau=np.full(50, 0.01), r=np.ones(50), v_leak=np.zeros(50), v_threshold=np.ones(50), v_reset=np.zeros(50)
    )
    conv = nir.Conv2d(
        input_shape=(50, 100),
        weight=np.ones((1, 1, 1, 1)),
        stride=10,
        padding=0,
        dilation=1,
        groups=1,
        bias=np.zeros(1),
    )
    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([1, 50, 100])),
            "conv": conv,
            "flat": nir.Flatten(input_type=np.array([1, 5, 10]), start_dim=0),
            "lif": lif,
            "out": nir.Output(output_type=np.array([50])),
        },
        edges=[("in", "conv"), ("conv", "flat"), ("flat", "lif"), ("lif", "out")],
        type_check=False,
    )
    with pytest.raises(BiosnnInputError, match=r"NIR node 'conv' \(Conv2d\): .*5000 x 5000 identity basis.* needs"):
        from_nir(g, Discretization.exact(1e-4))


def test_validate_nir_refuses_a_graph_reading_another_file(tmp_path, capsys):
    from biosnn.core.spikes import SpikeTrains

    pytest.importorskip("snntorch", reason="validate-nir --framework snntorch needs snntorch")
    SpikeTrains([0.001], [0], 2, 0.01).save(tmp_path / "in.npz")
    code = main(
        [
            "validate-nir",
            str(_nir(tmp_path / "bad.nir", _nir_external_link)),
            "--input",
            str(tmp_path / "in.npz"),
            "--framework",
            "snntorch",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "is an external link" in err and "Traceback" not in err, err
