"""Brian2 code-generation targets and devices.

* ``numpy`` and ``cython``: Brian2's runtime device, ``prefs.codegen.target``.
* ``cpp_standalone``: a whole C++ program is generated, compiled and run.
* ``cuda_standalone``: the same through brian2cuda (needs ``pip install
  biosnn[cuda]``, nvcc, and an NVIDIA GPU to run).

:func:`brian_target` is a context manager that selects a target, yields the
build directory (standalone), and restores Brian2's runtime device afterwards,
so that many simulations can run in one process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import tempfile

from ..errors import BiosnnInputError

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


@contextlib.contextmanager
def brian_target(target: str, directory: str | None = None, *, keep: bool = False):
    """Select ``target`` for the enclosed Brian2 run; yields a standalone directory or None."""
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
    saved_prefs = {}
    if target == "cuda_standalone":
        import brian2cuda  # noqa: F401  (registers the device)

        saved_prefs = _cuda_prefs(brian2.prefs)
    own_dir = directory is None
    build_dir = tempfile.mkdtemp(prefix=f"biosnn_{target}_") if own_dir else directory
    brian2.set_device(target, directory=build_dir, build_on_run=True, with_output=False)
    try:
        yield build_dir
    finally:
        brian2.get_device().reinit()
        reset_device("runtime")
        for name, value in saved_prefs.items():
            brian2.prefs[name] = value
        if own_dir and not keep:
            shutil.rmtree(build_dir, ignore_errors=True)


def _cuda_prefs(prefs) -> dict:
    """Compiler flags for brian2cuda; returns the previous values to restore.

    CUDA >= 13's Thrust/libcu++ refuse C++11, which brian2cuda 1.0b1 and Brian2
    pass by default, so both nvcc and its host compiler get ``-std=c++17``.
    ``-use_fast_math`` (brian2cuda's default) is dropped: the reference does not
    trade accuracy for speed.
    """
    gcc_key = "codegen.cpp.extra_compile_args_gcc"
    nvcc_key = "devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"
    saved = {gcc_key: list(prefs[gcc_key]), nvcc_key: list(prefs[nvcc_key])}
    gcc = [flag for flag in prefs[gcc_key] if not flag.startswith("-std=")] + ["-std=c++17"]
    nvcc = [flag for flag in prefs[nvcc_key] if flag != "-use_fast_math" and not flag.startswith("-std=")]
    prefs[gcc_key] = gcc
    prefs[nvcc_key] = nvcc + ["-std=c++17"]
    return saved
