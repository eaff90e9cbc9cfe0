"""The discretization a NIR graph came from: what every import must state.

NIR (Pedersen et al. 2024, "Neuromorphic intermediate representation", Nat.
Commun. 15:8122) writes neurons as continuous-time ODEs and leaves the
discretization to each backend. Two choices decide what a graph *means* on a
grid of step ``dt``:

* **How a spike enters.** NIR's own answer (the debug notes of its paper,
  ``paper/01_lif/debug_spike_representation``) is a Dirac pulse of unit area:
  a spike through weight ``W`` into ``tau dv/dt = (v_leak - v) + R I`` moves
  ``v`` by ``R W / tau``, whatever ``dt``. Every discrete framework instead
  feeds a spike as a value 1 held for one step, a pulse of area ``dt``, so its
  effect ``R W dt / tau`` scales with ``dt`` ("spike scaling with dt").
  ``spikes="dirac"`` or ``spikes="pulse"``.
* **How the ODE is stepped.** ``method="exact"``: the exponential propagator
  (biosnn's reference, Brian2's exact integration); ``method="euler"``: forward
  Euler, ``v' = v + (dt / tau) ((v_leak - v) + R I)``, the per-step decay
  ``beta = 1 - dt / tau`` of snntorch (which exports ``tau = dt / (1 - beta)``
  with ``dt = 1e-4``), norse and spikingjelly.

Framework presets state what each framework's exporter writes
(``docs/nir.md`` lists the conventions each one was found to use). A preset is
a reading of the file, never a correction guessed from the numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from ..core.errors import BiosnnInputError
from ..core.units import positive_time

if TYPE_CHECKING:
    import numpy as np

#: the propagators an import can ask for (``biosnn.core.schedule.DISCRETIZATIONS``)
METHODS = ("exact", "euler")
#: how a spike enters a neuron: NIR's unit-area Dirac, or the frameworks' one-step pulse of amplitude 1
SPIKES = ("dirac", "pulse")
#: what a file's time-constant fields hold: tau itself, or dt * tau (norse 1.1.0's ``to_nir`` writes
#: ``dt / tau_mem_inv``)
TAU_FIELDS = ("tau", "dt*tau")
#: resets an import may impose where the framework used one NIR cannot state
RESET_OVERRIDES = (None, "subtract")

#: snntorch's ``export_to_nir`` computes ``tau = dt / (1 - beta)`` with this dt (seconds)
SNNTORCH_DT = 1e-4
#: norse's ``to_nir`` default step (seconds)
NORSE_DT = 1e-3
#: spikingjelly's ``export_to_nir`` default step (seconds)
SPIKINGJELLY_DT = 1e-4


@dataclass(frozen=True)
class Discretization:
    """How to read a NIR graph on a grid of step ``dt`` (seconds).

    ``method``: ``"exact"`` or ``"euler"``. ``spikes``: ``"dirac"`` (unit area:
    NIR's convention) or ``"pulse"`` (amplitude 1 for one step, area ``dt``: the
    frameworks'). ``tau_in_file``: ``"tau"``, or ``"dt*tau"`` for files whose
    time-constant fields hold ``dt * tau``. ``reset``: ``None`` (the graph's:
    NIR's LIF resets to ``v_reset``) or ``"subtract"`` (``v -= v_th - v_reset``,
    which NIR cannot state). ``source`` names the preset, for reports.
    """

    method: str
    dt: float
    spikes: str
    tau_in_file: str = "tau"
    reset: str | None = None
    source: str = "user"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise BiosnnInputError(f"discretization method {self.method!r}: choose one of {', '.join(METHODS)}")
        object.__setattr__(self, "dt", positive_time(self.dt, "discretization dt"))
        if self.spikes not in SPIKES:
            raise BiosnnInputError(f"discretization spikes {self.spikes!r}: choose one of {', '.join(SPIKES)}")
        if self.tau_in_file not in TAU_FIELDS:
            raise BiosnnInputError(
                f"discretization tau_in_file {self.tau_in_file!r}: choose one of {', '.join(TAU_FIELDS)}"
            )
        if self.reset not in RESET_OVERRIDES:
            raise BiosnnInputError(f"discretization reset {self.reset!r}: choose None (the graph's) or 'subtract'")
        if not isinstance(self.source, str) or not self.source:
            raise BiosnnInputError(f"discretization source must be a name, got {self.source!r}")

    # -- presets ----------------------------------------------------------
    @classmethod
    def exact(cls, dt: float, *, spikes: str = "dirac", reset: str | None = None) -> Discretization:
        """NIR's continuous-time semantics (unit-area Dirac spikes), simulated exactly on a grid of ``dt``."""
        return cls("exact", dt, spikes, reset=reset, source="nir")

    @classmethod
    def euler(cls, dt: float, *, spikes: str = "pulse", reset: str | None = None) -> Discretization:
        """Forward Euler at ``dt`` with one-step spike pulses: what discrete-time frameworks compute."""
        return cls("euler", dt, spikes, reset=reset, source="euler")

    @classmethod
    def snntorch(cls) -> Discretization:
        """snntorch 1.0: ``beta = 1 - dt / tau`` with ``dt = 1e-4``, ``r = tau / dt``, spikes as pulses."""
        return cls("euler", SNNTORCH_DT, "pulse", source="snntorch")

    @classmethod
    def norse(cls, dt: float = NORSE_DT) -> Discretization:
        """norse 1.1: Euler at ``dt``; its ``to_nir`` writes ``dt / tau_mem_inv`` (that is ``dt * tau``) in the
        time-constant fields, which this preset reads as such."""
        return cls("euler", dt, "pulse", tau_in_file="dt*tau", source="norse")

    @classmethod
    def spikingjelly(cls, dt: float = SPIKINGJELLY_DT) -> Discretization:
        """spikingjelly 2.0: ``H = V + (X - (V - V_reset)) / tau_steps`` at ``dt``, ``tau = tau_steps * dt``."""
        return cls("euler", dt, "pulse", source="spikingjelly")

    # -- what it means ----------------------------------------------------
    @property
    def spike_area(self) -> float:
        """The area (seconds x amplitude) of one spike: 1 for a Dirac, ``dt`` for a one-step pulse."""
        return 1.0 if self.spikes == "dirac" else self.dt

    def tau(self, value: float | np.ndarray) -> float | np.ndarray:
        """The time constant (s) a file's time-constant field holds."""
        return value / self.dt if self.tau_in_file == "dt*tau" else value

    def describe(self) -> str:
        spikes = (
            "unit-area Dirac pulses (NIR)"
            if self.spikes == "dirac"
            else f"one-step pulses of amplitude 1 (area dt = {self.dt:g} s)"
        )
        text = f"{self.method} at dt = {self.dt:g} s, spikes as {spikes}"
        if self.tau_in_file == "dt*tau":
            text += "; time-constant fields read as dt*tau"
        if self.reset:
            text += f"; reset by {self.reset}ion imposed"
        return f"{text} [{self.source}]"

    def as_dict(self) -> dict:
        return {**asdict(self), "spike_area": self.spike_area, "description": self.describe()}


#: the preset of each framework whose exported graphs biosnn reads (``Discretization.<name>``)
FRAMEWORK_PRESETS = {
    "snntorch": Discretization.snntorch,
    "norse": Discretization.norse,
    "spikingjelly": Discretization.spikingjelly,
}
