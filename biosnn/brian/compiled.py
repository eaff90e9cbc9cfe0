"""A network compiled once by Brian2's cpp_standalone device and run on many inputs without rebuilding
(and :func:`build_cuda_project`: a brian2cuda project generated and compiled without a GPU).

A perturbation sweep evaluates the same trained network on many test sets of
the same size: one build (code generation and C++ compilation, tens of
seconds) then one run of the compiled program per test set::

    with CompiledNetwork(net, dt=1e-3, duration=0.1, batch=2264, copies=16, capacity=10_000_000) as compiled:
        for spikes in perturbed_test_sets:
            activities = compiled.run(spikes)        # the program runs again; nothing is compiled

The network is built by the one runner (``biosnn/brian/network.py``), with the
batch laid out by ``biosnn/brian/layout.py`` (``copies``). Its input spike
generator holds room for ``capacity`` spikes: each run writes the new spikes,
padded with spikes after the end of the run, over the program's input arrays
(the static arrays it loads at start-up, whose sizes are fixed at build) and
runs the program again; the monitors are read back as after any run. Brian2
runs one standalone device per process: while a CompiledNetwork is open, no
other Brian2 simulation runs in that process (give each worker its own; each
has its own build directory).
"""

from __future__ import annotations

import contextlib
import gc
import os
import time

import numpy as np

from ..core.activity import LayerActivity
from ..core.errors import BiosnnInputError
from ..core.inputs import make_stimulus
from ..core.resources import check_fits
from ..core.schedule import TimeGrid
from ..core.spikes import SpikeTrains
from ..models.footprint import estimate
from ..models.network import FeedForwardNet
from .components import placed_spikes
from .layout import check_copies
from .network import build_network, check_complete, layout_of
from .targets import GpuTarget, brian_target

#: the generator's arrays rewritten for each run (Brian2's names for its input spikes)
_INPUT_ARRAYS = ("neuron_index", "_timebins", "spike_time")


class CompiledNetwork:
    """``net`` compiled for batches of ``batch`` samples of ``duration`` on the grid ``dt`` (see the module
    docstring). ``capacity``: input spikes a run can hold (default: twice the first run's, at least 1000)."""

    def __init__(
        self,
        net: FeedForwardNet,
        *,
        dt: float,
        duration: float,
        batch: int,
        copies: int | None = None,
        capacity: int | None = None,
        schedule: str = "exact",
        discretization: str = "exact",
        record: bool = False,
        directory: str | None = None,
    ) -> None:

        self.net, self.batch, self.copies, self.capacity = net, int(batch), check_copies(copies, "brian2"), capacity
        self.grid = TimeGrid.from_duration(dt, duration, schedule)
        self.discretization, self.record, self.directory = discretization, record, directory
        self._stack = None
        self.built = None
        self.build_seconds = None

    def __enter__(self) -> CompiledNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Give the process's Brian2 device back (and remove a build directory of our own)."""
        if self._stack is not None:
            self._stack.close()
            self._stack, self.built = None, None

    def _stimulus(self, spikes: SpikeTrains):
        stimulus = make_stimulus(spikes, self.grid, held=False, n_inputs=self.net.n_inputs)
        if stimulus.batch_size != self.batch:
            raise BiosnnInputError(
                f"this network was compiled for batches of {self.batch} samples, got {stimulus.batch_size}"
            )
        return stimulus

    def run(self, spikes: SpikeTrains) -> list[LayerActivity]:
        """Every layer's activity on ``spikes`` (``batch`` samples on the compiled grid); builds on the first call."""
        import brian2

        stimulus = self._stimulus(spikes)
        if self.built is None:
            if self.capacity is None:
                self.capacity = max(1000, 2 * len(spikes))
            layout = layout_of(self.net, stimulus, self.copies)
            self._check_capacity(spikes)
            check_fits(
                estimate(self.net, stimulus, backend="brian2", record=self.record, copies=self.copies),
                "this compiled Brian2 network",
            )
            brian2.prefs.logging.file_log = False
            stack = contextlib.ExitStack()
            try:
                stack.enter_context(brian_target("cpp_standalone", self.directory))
                start = time.perf_counter()
                self.built = build_network(
                    self.net,
                    stimulus,
                    layout,
                    discretization=self.discretization,
                    record=self.record,
                    input_capacity=self.capacity,
                )
                self.built.run()  # generates, compiles and runs the program once
                self.build_seconds = time.perf_counter() - start
            except BaseException:
                stack.close()
                self.built = None
                raise
            self._stack = stack
            return self.built.activities()
        self._check_capacity(spikes)
        index, step = placed_spikes(spikes, self.grid.dt, self.built.layout, self.capacity)
        device = brian2.get_device()
        values = {"neuron_index": index, "_timebins": step, "spike_time": step * self.grid.dt}
        for name in _INPUT_ARRAYS:
            array_name = f"_static_array__dynamic_array_{self.built.generator.name}_{name}"
            copies = [a for a in device.static_arrays if a.startswith(array_name)]
            if copies != [array_name]:  # missing, or set twice (a suffixed copy would be the one read)
                raise RuntimeError(
                    f"Brian2's input array {array_name} not found once ({copies}): this Brian2 "
                    "version lays out its standalone project differently"
                )
            old = device.static_arrays[array_name]
            new = np.asarray(values[name], dtype=old.dtype)
            new.tofile(os.path.join(device.project_dir, "static_arrays", array_name))
        device.run(with_output=False)
        check_complete(self.built.layout.total_steps)
        return self.built.activities()

    def _check_capacity(self, spikes: SpikeTrains) -> None:
        if len(spikes) > self.capacity:
            raise BiosnnInputError(
                f"{len(spikes)} input spikes exceed this compiled network's capacity of "
                f"{self.capacity}: compile it with a larger capacity"
            )


#: the GPU a project is generated for when none is named (GpuTarget's defaults)
DEFAULT_GPU = GpuTarget()


def build_cuda_project(
    net: FeedForwardNet,
    spikes: SpikeTrains,
    directory: str,
    *,
    dt: float,
    duration: float,
    compile: bool = True,
    gpu: GpuTarget = DEFAULT_GPU,
    copies: int | None = None,
    schedule: str = "exact",
    discretization: str = "exact",
) -> str:
    """Generate (and with ``compile``, nvcc-compile) the brian2cuda project simulating ``net`` on ``spikes``
    into ``directory``, for ``gpu`` (no GPU is detected or needed); the program is not run. Returns the
    directory. The project is the one runner's network (``biosnn/brian/network.py``), as a run on
    ``cuda_standalone`` would build it; ``make`` in the directory compiles it (``compile=False``)."""
    import brian2

    grid = TimeGrid.from_duration(dt, duration, schedule)
    stimulus = make_stimulus(spikes, grid, held=False, n_inputs=net.n_inputs)
    layout = layout_of(net, stimulus, copies)
    os.makedirs(directory, exist_ok=True)
    gc.collect()  # Brian2 objects of an earlier build still in reference cycles would rename this one's
    brian2.prefs.logging.file_log = False
    with brian_target("cuda_standalone", directory, keep=True, build_on_run=False, gpu=gpu):
        built = build_network(net, stimulus, layout, discretization=discretization)
        built.run(executes=False)  # recorded, not run (build_on_run=False)
        brian2.get_device().build(directory=directory, compile=compile, run=False, with_output=False)
    return directory
