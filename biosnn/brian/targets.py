"""Brian2 code-generation targets and devices.

* ``numpy`` and ``cython``: Brian2's runtime device, ``prefs.codegen.target``.
* ``cpp_standalone``: a whole C++ program is generated, compiled and run.
* ``cuda_standalone``: the same through brian2cuda (needs ``pip install
  biosnn[cuda]``, nvcc, and an NVIDIA GPU to run); with a :class:`GpuTarget`
  its project is generated (and compiled: ``biosnn.brian.compiled.build_cuda_project``)
  without a GPU.

:func:`brian_target` is a context manager that selects a target, yields the
build directory (standalone), and restores Brian2's runtime device afterwards,
so that many simulations can run in one process.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import BiosnnInputError

if TYPE_CHECKING:
    from collections.abc import Iterator

RUNTIME_TARGETS = ("numpy", "cython")
STANDALONE_TARGETS = ("cpp_standalone", "cuda_standalone")
TARGETS = RUNTIME_TARGETS + STANDALONE_TARGETS


def check_target(target: str | None) -> str:
    target = target or "numpy"
    if target not in TARGETS:
        raise BiosnnInputError(f"unknown Brian2 target {target!r}; choose one of {', '.join(TARGETS)}")
    if target == "cuda_standalone" and importlib.util.find_spec("brian2cuda") is None:
        raise BiosnnInputError("target cuda_standalone needs brian2cuda: pip install 'biosnn[cuda]'")
    return target


@dataclass(frozen=True)
class GpuTarget:
    """The GPU a cuda_standalone project is generated for, given instead of detected (no GPU needed):
    its compute capability (CUDA 13: 7.5 or more) and the CUDA runtime version."""

    compute_capability: float = 9.0
    runtime_version: float | None = None  # default: nvcc's release (:func:`nvcc_release`)


@contextlib.contextmanager
def brian_target(
    target: str,
    directory: str | None = None,
    *,
    keep: bool = False,
    build_on_run: bool = True,
    gpu: GpuTarget | None = None,
) -> Iterator[str | None]:
    """Select ``target`` for the enclosed Brian2 run; yields a standalone directory or None.

    ``build_on_run=False`` (standalone): ``Network.run`` only records the run; the caller builds.
    ``gpu`` (cuda_standalone): generate for that GPU, without detecting one.
    """
    import brian2
    from brian2.devices.device import reset_device

    target = check_target(target)
    if target in RUNTIME_TARGETS:
        previous = brian2.prefs.codegen.target
        brian2.prefs.codegen.target = target
        try:
            yield None
        finally:
            brian2.prefs.codegen.target = previous
        return
    if target == "cuda_standalone":
        import brian2cuda  # noqa: F401  (registers the device)
    own_dir = directory is None
    build_dir = tempfile.mkdtemp(prefix=f"biosnn_{target}_") if own_dir else directory
    saved_prefs = {}
    try:
        if target == "cuda_standalone":
            saved_prefs = _cuda_prefs(brian2.prefs, build_dir)
            if gpu is not None:
                saved_prefs.update(_no_gpu_prefs(brian2.prefs, gpu))
        brian2.set_device(target, directory=build_dir, build_on_run=build_on_run, with_output=False)
        yield build_dir
    finally:
        brian2.get_device().reinit()
        reset_device("runtime")
        for name, value in saved_prefs.items():
            brian2.prefs[name] = value
        if gpu is not None and target == "cuda_standalone":
            _forget_gpu_selection()
        if own_dir and not keep:
            shutil.rmtree(build_dir, ignore_errors=True)


def _cuda_prefs(prefs, build_dir: str) -> dict:
    """Compiler flags for brian2cuda; returns the previous values to restore.

    CUDA >= 13's Thrust/libcu++ refuse C++11, which brian2cuda 1.0b1 and Brian2
    pass by default, so both nvcc and its host compiler get ``-std=c++17``.
    ``-use_fast_math`` (brian2cuda's default) is dropped: the reference does not
    trade accuracy for speed. cuRAND comes from the CUDA toolkit, or else from
    the ``nvidia-curand`` wheel (:func:`_curand_from_wheel`).
    """
    gcc_key = "codegen.cpp.extra_compile_args_gcc"
    nvcc_key = "devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"
    saved = {gcc_key: list(prefs[gcc_key]), nvcc_key: list(prefs[nvcc_key])}
    gcc = [flag for flag in prefs[gcc_key] if not flag.startswith("-std=")] + ["-std=c++17"]
    nvcc = [flag for flag in prefs[nvcc_key] if flag != "-use_fast_math" and not flag.startswith("-std=")]
    prefs[gcc_key] = gcc
    prefs[nvcc_key] = nvcc + ["-std=c++17"]
    wheel = None if _toolkit_has_curand() else _curand_from_wheel(build_dir)
    if wheel is not None:
        include, lib, runtime = wheel
        for key, value in (
            ("codegen.cpp.include_dirs", include),
            ("codegen.cpp.library_dirs", lib),
            ("codegen.cpp.runtime_library_dirs", runtime),
        ):
            saved[key] = list(prefs[key])
            prefs[key] = list(prefs[key]) + [value]
        prefs[nvcc_key] = prefs[nvcc_key] + [f"-I{include}"]  # nvcc's device pass does not see -Xcompiler -I
    return saved


def _cuda_home() -> str | None:
    nvcc = shutil.which("nvcc")
    home = os.environ.get("CUDA_PATH") or (os.path.dirname(os.path.dirname(nvcc)) if nvcc else "/usr/local/cuda")
    return home if os.path.isdir(home) else None


def _toolkit_has_curand() -> bool:
    home = _cuda_home()
    return home is not None and any(
        os.path.exists(os.path.join(home, sub, "curand.h")) for sub in ("include", "targets/x86_64-linux/include")
    )


def _curand_from_wheel(build_dir: str) -> tuple[str, str, str] | None:
    """cuRAND of the ``nvidia-curand`` wheel (``nvidia/cu13/`` for CUDA 13, ``nvidia/curand/`` before).

    The wheel ships ``libcurand.so.10`` but no ``libcurand.so`` for brian2cuda's
    ``-lcurand``, and its include folder holds a whole CUDA runtime beside
    cuRAND, so the project gets ``_curand/include`` (the ``curand*.h``) and
    ``_curand/lib/libcurand.so`` as links into the wheel, named relative to the
    project (the makefile does not depend on where the project is). Returns
    ``(include, lib, runtime library folder)`` or None without the wheel.
    """
    spec = importlib.util.find_spec("nvidia")
    roots = list(spec.submodule_search_locations) if spec is not None and spec.submodule_search_locations else []
    for root in roots:
        for include in sorted(glob.glob(os.path.join(root, "*", "include"))):
            libs = sorted(glob.glob(os.path.join(os.path.dirname(include), "lib", "libcurand.so*")))
            if not os.path.exists(os.path.join(include, "curand.h")) or not libs:
                continue
            shim = os.path.join(build_dir, "_curand")
            os.makedirs(os.path.join(shim, "include"), exist_ok=True)
            os.makedirs(os.path.join(shim, "lib"), exist_ok=True)
            for header in glob.glob(os.path.join(include, "curand*.h")):
                _link(header, os.path.join(shim, "include", os.path.basename(header)))
            _link(libs[0], os.path.join(shim, "lib", "libcurand.so"))
            return os.path.join("_curand", "include"), os.path.join("_curand", "lib"), os.path.dirname(libs[0])
    return None


def _link(target: str, name: str) -> None:
    if os.path.islink(name) and os.readlink(name) == target:
        return
    if os.path.lexists(name):
        os.remove(name)
    os.symlink(target, name)


# -- a cuda_standalone project without a GPU ---------------------------------------------------
def nvcc_release() -> float:
    """The CUDA release of ``nvcc`` on PATH (``nvcc --version``), e.g. ``13.0``."""
    nvcc = shutil.which("nvcc") or os.path.join(_cuda_home() or "/usr/local/cuda", "bin", "nvcc")
    found = re.search(
        r"release (\d+\.\d+)", subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=True).stdout
    )
    if found is None:
        raise RuntimeError(f"{nvcc} --version names no CUDA release")
    return float(found.group(1))


def _no_gpu_prefs(prefs, gpu: GpuTarget) -> dict:
    """brian2cuda without a GPU: no ``nvidia-smi``, a fixed GPU id, compute capability and CUDA version."""
    backend = "devices.cuda_standalone.cuda_backend."
    runtime = gpu.runtime_version if gpu.runtime_version is not None else nvcc_release()
    values = {
        backend + "detect_gpus": False,
        backend + "gpu_id": 0,
        backend + "compute_capability": float(gpu.compute_capability),
        backend + "cuda_runtime_version": float(runtime),
    }
    saved = {name: prefs[name] for name in values}
    for name, value in values.items():
        prefs[name] = value
    _forget_gpu_selection()
    return saved


def _forget_gpu_selection() -> None:
    """brian2cuda caches the GPU it picked and the CUDA it found, per process."""
    from brian2cuda.utils.gputools import reset_cuda_installation, reset_gpu_selection

    reset_cuda_installation()
    reset_gpu_selection()
