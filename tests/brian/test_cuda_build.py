"""brian2cuda generates and nvcc-compiles biosnn networks without a GPU (marker ``cuda_build``).

:func:`biosnn.brian.compiled.build_cuda_project` builds a network with the one
Brian2 runner on ``cuda_standalone`` with GPU detection off and an explicit
compute capability and CUDA version (``GpuTarget``), and writes the project;
the test then compiles it with the makefile brian2cuda wrote (``make`` as
brian2cuda runs it). Nothing is executed, so no GPU is needed, only nvcc and
brian2cuda; without either the tests skip. cuRAND comes from the toolkit or the
``nvidia-curand`` wheel.

Compiling one project takes minutes, so it is cached: generation (under a
second) always runs; the generated sources (``*.cu``, ``*.h``, ``makefile``)
are hashed and a project is compiled only when no compiled project with that
hash is in the cache: ``$BIOSNN_CUDA_BUILD_CACHE``, else pytest's cache
(``.pytest_cache/d/biosnn_cuda_build``), else (``-p no:cacheprovider``) a
session temporary folder, i.e. once per session. brian2cuda writes a
SpikeMonitor's variables in set order, which follows Python's string hashing,
so one network has a few source variants, each cached under its own hash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from biosnn.data.synthetic import poisson_spike_trains
from biosnn.models.network import FeedForwardNet, LayerSpec

pytestmark = pytest.mark.cuda_build

#: compiled for sm_90 (an H100/H200); CUDA 13 compiles for 7.5 and up
COMPUTE_CAPABILITY = 9.0
DT, DURATION, BATCH, N_IN = 1e-4, 0.02, 2, 8
#: compiled variants kept per network
KEEP = 4


def _missing() -> str | None:
    if importlib.util.find_spec("brian2cuda") is None:
        return "needs brian2cuda: pip install 'biosnn[cuda]'"
    if shutil.which("nvcc") is None:
        return "needs nvcc (a CUDA toolkit) on PATH"
    return None


def _lif_delta(rng):
    """(a) one LIF layer, delta synapses, spike inputs."""
    return FeedForwardNet(
        N_IN, (LayerSpec("lif", 6, {"tau_m": 10e-3, "v_th": 0.75}),), (rng.uniform(-0.1, 0.6, (N_IN, 6)),)
    )


def _current_gamma(rng):
    """(b) LIF with current synapses -> a gamma cascade layer."""
    gamma = dict(bucket_tau=(3e-3, 3e-3, 6e-3), theta0=0.05, bucket_weight=rng.uniform(0, 1, (4, 3)))
    return FeedForwardNet(
        N_IN,
        (LayerSpec("lif", 6, {"tau_m": 10e-3, "tau_s": 4e-3}, synapse="current"), LayerSpec("gamma_cascade", 4, gamma)),
        (rng.uniform(0.0, 0.6, (N_IN, 6)), rng.uniform(0.0, 0.6, (6, 4))),
    )


NETWORKS = {"lif_delta": _lif_delta, "current_gamma": _current_gamma}


@dataclass
class Project:
    name: str
    net: FeedForwardNet
    directory: Path
    key: str
    generate_s: float
    compile_s: float | None  # None: taken from the cache
    make_rc: int = 0
    make_log: str = ""

    def read(self, relative: str) -> str:
        return (self.directory / relative).read_text()


def source_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink() and (path.suffix in (".cu", ".h") or path.name == "makefile"):
            digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _spikes():
    return poisson_spike_trains(np.random.default_rng(7), N_IN, 200.0, DURATION, DT, BATCH)


def _make(directory: Path) -> subprocess.CompletedProcess:
    import brian2

    make = brian2.prefs.devices.cpp_standalone  # brian2cuda compiles with these, as cpp_standalone does
    return subprocess.run(
        [make.make_cmd_unix, *make.extra_make_args_unix], cwd=directory, capture_output=True, text=True
    )


def _build(name: str, root: Path) -> Project:
    from biosnn.brian.compiled import build_cuda_project
    from biosnn.brian.targets import GpuTarget, nvcc_release

    net = NETWORKS[name](np.random.default_rng(3))
    staging = root / f"{name}-staging"
    shutil.rmtree(staging, ignore_errors=True)
    t0 = time.perf_counter()
    build_cuda_project(
        net,
        _spikes(),
        str(staging),
        dt=DT,
        duration=DURATION,
        compile=False,
        gpu=GpuTarget(COMPUTE_CAPABILITY, nvcc_release()),
    )
    generate_s = time.perf_counter() - t0
    key = source_hash(staging)
    final = root / f"{name}-{key}"
    if (final / "main").is_file():
        shutil.rmtree(staging)
        os.utime(final / "main")  # recently used: kept by _prune
        return Project(name, net, final, key, generate_s, None)
    t1 = time.perf_counter()
    make = _make(staging)
    compile_s = time.perf_counter() - t1
    if make.returncode != 0:  # left in staging for a look, never cached
        return Project(name, net, staging, key, generate_s, compile_s, make.returncode, make.stdout + make.stderr)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    _prune(root, name)
    return Project(name, net, final, key, generate_s, compile_s)


def _prune(root: Path, name: str) -> None:
    compiled = sorted(
        (d for d in root.glob(f"{name}-*") if (d / "main").is_file()),
        key=lambda d: (d / "main").stat().st_mtime,
        reverse=True,
    )
    for old in compiled[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def _cache_root(config, tmp_path_factory) -> Path:
    if os.environ.get("BIOSNN_CUDA_BUILD_CACHE"):
        root = Path(os.environ["BIOSNN_CUDA_BUILD_CACHE"])
        root.mkdir(parents=True, exist_ok=True)
        return root
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("biosnn_cuda_build"))
    return tmp_path_factory.mktemp("cuda_build")


@pytest.fixture(scope="session")
def cuda_project(request, tmp_path_factory):
    """``cuda_project(name)``: the compiled project of ``NETWORKS[name]``, built at most once a session."""
    missing = _missing()
    if missing:
        pytest.skip(missing)
    root, built = _cache_root(request.config, tmp_path_factory), {}

    def get(name: str) -> Project:
        if name not in built:
            built[name] = _build(name, root)
            p = built[name]
            compiled = f"{p.compile_s:.1f} s" if p.compile_s is not None else "cached"
            print(f"\n[cuda_build] {name}: generate {p.generate_s:.2f} s, nvcc {compiled} ({p.directory})")
        return built[name]

    return get


def _compiled(project: Project) -> Project:
    assert project.make_rc == 0, f"nvcc compilation of {project.name} failed:\n{project.make_log[-6000:]}"
    main = project.directory / "main"
    assert main.is_file() and os.access(main, os.X_OK)
    assert main.read_bytes()[:4] == b"\x7fELF"
    return project


def _check_makefile(project: Project) -> None:
    makefile = project.read("makefile")
    nvcc_flags = next(line for line in makefile.splitlines() if line.startswith("NVCCFLAGS"))
    host_flags = nvcc_flags.split("-Xcompiler", 1)[1]
    # CUDA 13's Thrust needs C++17 for nvcc and its host compiler (the template's -std=c++11 comes first)
    assert nvcc_flags.split("-Xcompiler")[0].split("-std=")[-1].startswith("c++17"), nvcc_flags
    assert "-std=c++17" in host_flags and "-std=c++11" not in host_flags, nvcc_flags
    assert "-use_fast_math" not in makefile, "the reference does not trade accuracy for speed"
    assert f"-arch=sm_{int(COMPUTE_CAPABILITY * 10)}" in makefile
    assert "-lcurand" in makefile


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_project_compiles(cuda_project, name):
    project = _compiled(cuda_project(name))
    _check_makefile(project)
    for k, _layer in enumerate(project.net.layers):
        for kind in ("stateupdater", "spike_thresholder", "spike_resetter"):
            assert (project.directory / "code_objects" / f"layer{k}_{kind}_codeobject.o").is_file(), (k, kind)
        assert (project.directory / "code_objects" / f"spikes{k}_codeobject.o").is_file()


def test_lif_layer_code(cuda_project):
    """Threshold, membrane decay and the input weights of the LIF spec reach the CUDA project."""
    project = _compiled(cuda_project("lif_delta"))
    threshold = project.read("code_objects/layer0_spike_thresholder_codeobject.cu")
    assert "__global__" in threshold and "(v >= v_th)" in threshold
    assert "const double v_th = 0.75;" in threshold
    decay = repr(float(np.exp(-DT / 10e-3)))
    assert decay in project.read("code_objects/layer0_stateupdater_codeobject.cu")
    assert "v = v_reset;" in project.read("code_objects/layer0_spike_resetter_codeobject.cu")
    # one copy of the network per sample: synapse (b, i, j) has weight W[i, j]
    static = project.directory / "static_arrays"
    sources = np.fromfile(static / "_static_array__array_hop0_sources", dtype=np.int32)
    targets = np.fromfile(static / "_static_array__array_hop0_targets", dtype=np.int32)
    weights = np.fromfile(static / "_static_array__dynamic_array_hop0_w", dtype=np.float64)
    n = project.net.layers[0].n
    assert sources.size == targets.size == weights.size == BATCH * N_IN * n
    assert np.array_equal(sources // N_IN, targets // n), "no synapse crosses samples"
    np.testing.assert_array_equal(weights, project.net.weights[0][sources % N_IN, targets % n])


def test_current_gamma_code(cuda_project):
    """The current synapse's decay and the cascade's emission condition reach the CUDA project."""
    project = _compiled(cuda_project("current_gamma"))
    current = project.read("code_objects/layer0_stateupdater_codeobject.cu")
    assert "_ptr_array_layer0_I" in current and repr(float(np.exp(-DT / 4e-3))) in current
    threshold = project.read("code_objects/layer1_spike_thresholder_codeobject.cu")
    assert "(y - B1) >= (0.5 * theta)" in threshold
    assert (project.directory / "code_objects" / "hop1_cascades_stateupdater_codeobject.o").is_file()
    assert (project.directory / "code_objects" / "hop1_reader_summed_variable_x_post_codeobject.o").is_file()


@pytest.mark.usefixtures("cuda_project")  # skips without brian2cuda or nvcc
def test_build_leaves_brian2_as_it_was(tmp_path):
    """After a build, Brian2 is on its runtime device with its preferences as before (generation only)."""
    import brian2

    from biosnn.brian.compiled import build_cuda_project
    from biosnn.brian.targets import GpuTarget

    backend = "devices.cuda_standalone.cuda_backend."
    before = {name: brian2.prefs[name] for name in brian2.prefs if name.startswith(("codegen.cpp", backend))}
    net = NETWORKS["lif_delta"](np.random.default_rng(3))
    directory = build_cuda_project(
        net,
        _spikes(),
        str(tmp_path / "p"),
        dt=DT,
        duration=DURATION,
        compile=False,
        gpu=GpuTarget(COMPUTE_CAPABILITY, 13.0),
    )
    assert Path(directory, "makefile").is_file() and not Path(directory, "main").exists()
    assert type(brian2.get_device()).__name__ == "RuntimeDevice"
    assert {name: brian2.prefs[name] for name in before} == before
    assert brian2.prefs[backend + "detect_gpus"] is True
