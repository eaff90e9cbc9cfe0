"""Each framework's own forward pass of a NIR graph, and the conventions it was found to use.

A framework runs a graph through its own NIR importer (snntorch 1.0.0
``snntorch.import_nir.import_from_nir``, norse 1.1.0 ``norse.torch.from_nir``,
spikingjelly 2.0.0 ``nir_exchange.import_from_nir``), in float64, one step of
the input raster at a time; forward hooks on its neuron modules record every
layer's spikes and membrane after the reset. Its spike tensors are cast back to
the input's dtype (snntorch's Heaviside returns float32), which changes no value.

Every framework propagates within a step (layer l sees layer l-1's spikes of
the same step) and, for current-based neurons, integrates the membrane with the
synaptic current already updated by the step's input (snntorch ``Synaptic``,
spikingjelly ``CUBALIFNode``, norse's imported ``CubaLIF``). biosnn's exact
schedule costs one step per hop and its ODE step integrates the current of the
step start, so a framework step ``t`` of layer ``l`` is biosnn step
``t + lag_l`` (:func:`layer_lags`), and the membrane after that step is biosnn's
record at ``t + lag_l + 1``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from . import chain
from .discretization import FRAMEWORK_PRESETS, SNNTORCH_DT, Discretization
from .importer import framework_alignment

if TYPE_CHECKING:
    from typing import Any

    import nir
    import torch

    from .importer import ImportedNetwork


@dataclass(frozen=True)
class Convention:
    """One way the framework, NIR and biosnn differ (or agree), with its consequence.

    ``accounted``: the comparison already allows for it (e.g. the per-hop lag);
    otherwise it may explain a disagreement."""

    topic: str
    framework: str
    nir: str
    biosnn: str
    consequence: str
    accounted: bool = False

    def as_dict(self) -> dict:
        return dict(
            topic=self.topic,
            framework=self.framework,
            nir=self.nir,
            biosnn=self.biosnn,
            consequence=self.consequence,
            accounted=self.accounted,
        )


@dataclass
class FrameworkRun:
    """Per layer (in chain order): spikes and post-reset membrane ``[T, B, N]`` (float64), and the factor that
    turns the framework's membrane into NIR's ``v`` (snntorch rescales thresholds instead of weights)."""

    spikes: list
    v: list
    v_scale: list
    printed: str = ""
    notes: list = field(default_factory=list)


def layer_lags(imported: ImportedNetwork, *, current_first: bool = True) -> tuple[int, ...]:
    """Steps between a framework step and biosnn's label for each layer (``importer.framework_alignment``): the
    hop latency (none into a held first layer, one step otherwise: ``biosnn.core.schedule``) plus one for
    current-based layers of a framework that integrates the membrane with the current of the same step."""
    return framework_alignment(imported.held_input, imported.current, current_first=current_first)[1]


def _cast_spikes(module, inputs, output):
    """Forward hook: the neuron's spikes in its input's dtype (values 0/1 are exact in any float type)."""
    dtype = inputs[0].dtype
    if isinstance(output, tuple):
        return (output[0].to(dtype),) + tuple(output[1:])
    return output.to(dtype)


def _neuron_graph(graph, disc: Discretization):
    """A copy of ``graph`` whose time-constant fields hold tau as ``disc`` reads them (norse's dt*tau fields)."""
    if disc.tau_in_file == "tau":
        return graph
    graph = copy.deepcopy(graph)
    for node in graph.nodes.values():
        for name in ("tau", "tau_mem", "tau_syn"):
            if name in getattr(node, "__dataclass_fields__", {}):
                setattr(node, name, disc.tau(chain.array(getattr(node, name))))
    return graph


class Framework:
    """One framework: availability, its preset, its forward pass of a graph, its conventions."""

    name = ""
    install = ""
    #: the module whose import makes the framework available (its NIR importer)
    module = ""
    #: whether its current-based neurons integrate v with the current already updated this step
    current_first = True

    def missing(self) -> str | None:
        """Why the framework cannot run here (None: it can)."""
        try:
            importlib.import_module(self.module)
        except ImportError as err:
            return f"cannot import {self.module} ({err})"
        return None

    def check(self) -> None:
        reason = self.missing()
        if reason:
            raise BiosnnInputError(f"framework {self.name!r} is not available: {reason} ({self.install})")

    def preset(self, dt: float | None) -> Discretization:
        return FRAMEWORK_PRESETS[self.name]() if dt is None else FRAMEWORK_PRESETS[self.name](dt)

    def run(
        self, graph: nir.NIRGraph, raster: np.ndarray, disc: Discretization, input_shape: tuple = ()
    ) -> FrameworkRun:
        """``raster [T, B, n]`` through the framework; a multi-dimensional ``input_shape`` (a convolution's
        ``(C, H, W)``: ``ImportedNetwork.input_shape``) is the shape each sample is given in."""
        import torch

        module, neuron_types, printed = self.load(_neuron_graph(graph, disc), disc)
        module = module.double()
        calls: list = []

        def record(mod: torch.nn.Module, inputs: tuple[Any, ...], output: torch.Tensor | tuple[Any, ...]) -> None:
            calls.append(self.read_state(mod, output))

        handles = []
        for mod in module.modules():
            if isinstance(mod, neuron_types):
                handles.append(mod.register_forward_hook(_cast_spikes))
                handles.append(mod.register_forward_hook(record))
        x = torch.as_tensor(raster, dtype=torch.float64)
        if len(input_shape) > 1:
            x = x.reshape(x.shape[0], x.shape[1], *input_shape)
        per_step = []
        try:
            with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()) as out:
                state = None
                for t in range(x.shape[0]):
                    calls.clear()
                    result = self.step(module, x[t], state)
                    state = result[1] if isinstance(result, tuple) and len(result) == 2 else None
                    per_step.append(list(calls))
        finally:
            for h in handles:
                h.remove()
        n_layers = len(per_step[0]) if per_step else 0
        flat = lambda a: a.reshape(a.shape[0], a.shape[1], -1)  # noqa: E731  [T, B, *shape] -> [T, B, n]
        spikes = [flat(np.stack([s[k][0] for s in per_step])) for k in range(n_layers)]
        v = [flat(np.stack([s[k][1] for s in per_step])) for k in range(n_layers)]
        return FrameworkRun(spikes, v, self.v_scales(graph, disc), printed + out.getvalue())

    def step(self, module: torch.nn.Module, x: torch.Tensor, state: Any) -> Any:
        return module(x) if state is None else module(x, state)

    def v_scales(self, graph: nir.NIRGraph, disc: Discretization) -> list:
        return [1.0 for name in chain.path(graph) if chain.type_name(graph.nodes[name]) in chain.NEURON_TYPES]

    def conventions(self, graph: nir.NIRGraph, imported: ImportedNetwork) -> list[Convention]:
        return []


def _numbers(imported):
    """``k -> (tau_m, dt/tau, Euler decay, exact decay, tau with the exact decay of the Euler factor)`` of each
    leaky layer (a non-leaky IF or I layer has no membrane time constant, so no tau/dt mapping)."""
    out = {}
    for k, _layer in enumerate(imported.net.layers):
        params = imported.net.resolved_params(k, imported.dt)
        if "tau_m" not in params:
            continue
        tau = params["tau_m"]
        r = imported.dt / tau
        beta = 1 - r
        out[k] = (tau, r, beta, float(np.exp(-r)), -imported.dt / np.log(beta) if 0 < beta < 1 else float("nan"))
    return out


def common_conventions(framework: str, imported: ImportedNetwork, graph: nir.NIRGraph) -> list[Convention]:
    """What every discrete-time framework does differently from NIR and from biosnn's exact reference."""
    disc = imported.discretization
    source = (graph.metadata or {}).get("source") if isinstance(graph.metadata, dict) else None
    source = source.decode() if isinstance(source, bytes) else source
    out = (
        []
        if not source or framework in str(source)
        else [
            Convention(
                "writer",
                f"the {framework} preset reads a graph as {framework}'s exporter writes it",
                f"the graph's metadata says {source!r} wrote it",
                f"read as {disc.describe()}",
                f"a graph {framework} did not write may mean something else under {framework}'s reading",
            )
        ]
    )
    out += [
        Convention(
            "spike scaling with dt",
            f"a spike is the value 1 held for one step: its effect on v is R W dt / tau (dt = {disc.dt:g} s)",
            "a spike is a Dirac pulse of unit area: R W / tau, whatever dt (the NIR paper's debug notes)",
            f"read as {disc.describe()}",
            f"the same graph read with NIR's Dirac spikes moves v {1 / disc.dt:.4g} times further per spike; the "
            "framework's network is the graph read with one-step pulses",
            accounted=disc.spikes == "pulse",
        )
    ]
    for k, (tau, _r, beta, exact, tau_exact) in _numbers(imported).items():
        out.append(
            Convention(
                f"tau/dt mapping ({imported.layer_nodes[k]!r})",
                f"forward Euler: v decays by beta = 1 - dt/tau = {beta:.6g} per step",
                f"tau = {tau:g} s in continuous time",
                f"exact: e^(-dt/tau) = {exact:.6g} per step; Euler when asked (the framework's)",
                f"the framework's per-step decay is the exact decay of tau = {tau_exact:.6g} s, not {tau:g} s "
                f"({(tau_exact / tau - 1) * 100:+.3g} %): Brian2's exact run of the graph shows what that means",
                accounted=disc.method == "euler",
            )
        )
    out.append(
        Convention(
            "latency per hop",
            "layer l sees layer l-1's spikes in the same step",
            "no latency (continuous time)",
            "exact schedule: every hop costs one dt (docs/time_grid.md); a held first layer none",
            "biosnn's labels are later by the lags of layer_lags(); the comparison shifts them",
            accounted=True,
        )
    )
    if any(imported.current):
        out.append(
            Convention(
                "current-based update order",
                "v integrates the synaptic current already updated with this step's input (semi-implicit)",
                "tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = (v_leak - v) + R I (one ODE system)",
                "the ODE step uses the current of the step start (Brian2's explicit update)",
                "the same recurrence one step later: the comparison adds one step per current-based layer",
                accounted=True,
            )
        )
    onsets = [
        (imported.layer_nodes[k], imported.net.resolved_params(k, disc.dt)) for k in range(len(imported.net.layers))
    ]
    biased = [(node, p) for node, p in onsets if np.any(np.asarray(p.get("bias", 0.0)) != 0.0)]
    if biased:
        when = ", ".join(f"{node!r} from step {int(round(p.get('bias_onset', 0.0) / disc.dt))}" for node, p in biased)
        out.append(
            Convention(
                "bias (constant input)",
                "Affine's bias is added to every step's input, in every layer from the framework's step 0",
                "y = W x + b: a constant input current from t = 0",
                f"the layer's constant input, switched on with its first input: {when}",
                "biosnn's layer l receives its first input at a later label (the latency per hop); its bias starts "
                "there too, so the framework's step t is biosnn's label t + lag for the bias as for the spikes (Brian2's "
                "exact run keeps these onsets); under NIR's own reading (Discretization.exact(dt)) every bias is on "
                "from t = 0",
                accounted=disc.spikes == "pulse",
            )
        )
    out.append(
        Convention(
            "threshold",
            f"{framework}: spike when v {'>=' if framework == 'spikingjelly' else '>'} v_threshold",
            "z = 1 when v > v_threshold",
            "spike when v >= v_th",
            "differs only when v equals the threshold exactly",
            accounted=framework == "spikingjelly",
        )
    )
    return out


class Snntorch(Framework):
    name = "snntorch"
    install = "pip install snntorch==1.0.0"
    module = "snntorch.import_nir"

    def preset(self, dt: float | None) -> Discretization:
        """snntorch's importer fixes its step (``SNNTORCH_DT``): a ``dt`` other than that is refused, not
        ignored."""
        if dt is not None and dt != SNNTORCH_DT:
            raise BiosnnInputError(
                f"--dt {dt!r}: snntorch 1.0's import_from_nir fixes dt = {SNNTORCH_DT:g} s "
                "(beta = 1 - dt/tau); leave --dt out or give 1e-4"
            )
        return Discretization.snntorch()

    def load(self, graph: nir.NIRGraph, disc: Discretization) -> tuple[torch.nn.Module, tuple[type, ...], str]:
        import snntorch as snn
        from snntorch.import_nir import import_from_nir

        with contextlib.redirect_stdout(io.StringIO()) as out:
            module = import_from_nir(copy.deepcopy(graph))
        return module, (snn.Leaky, snn.Synaptic), out.getvalue()

    @staticmethod
    def read_state(mod: torch.nn.Module, output: torch.Tensor | tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
        spk = output[0] if isinstance(output, tuple) else output
        return spk.detach().double().numpy().copy(), mod.mem.detach().double().numpy().copy()

    @staticmethod
    def _w_scales(graph):
        """Per neuron layer: (node type, ``w_scale``) as snntorch's ``import_from_nir`` computes it."""
        out = []
        for name in chain.path(graph):
            node = graph.nodes[name]
            kind = chain.type_name(node)
            if kind == "LIF":
                out.append((kind, np.ravel(chain.array(node.r) * SNNTORCH_DT / chain.array(node.tau))))
            elif kind == "CubaLIF":
                out.append((kind, np.ravel(chain.array(node.w_in) * SNNTORCH_DT / chain.array(node.tau_syn))))
            elif kind in chain.NEURON_TYPES:
                out.append((kind, np.ones(1)))
        return out

    def v_scales(self, graph: nir.NIRGraph, disc: Discretization) -> list[float | np.ndarray]:
        """snntorch divides the threshold by ``w_scale = r dt / tau`` (``w_in dt / tau_syn``) instead of scaling
        the weights when that is not 1 (``np.allclose``): its input to neuron ``j`` is ``W x`` where the graph's
        Euler step adds ``w_scale_j W x``, so ``v_NIR,j = w_scale_j v_snntorch,j`` (one float when all neurons
        share it, else one factor per neuron). Its thresholds are ``v_threshold / w_scale`` per neuron for a
        CubaLIF but ``v_threshold / np.unique(w_scale)[0]`` for every neuron of a LIF: a LIF whose ``w_scale``
        differs between neurons is reported as a convention not accounted (:meth:`conventions`)."""
        scales = []
        for _kind, w in self._w_scales(graph):
            if np.allclose(w, 1.0):
                scales.append(1.0)
            elif np.unique(w).size == 1:
                scales.append(float(w[0]))
            else:
                scales.append(w.copy())
        return scales

    def conventions(self, graph: nir.NIRGraph, imported: ImportedNetwork) -> list[Convention]:
        out = [
            Convention(
                "time step",
                "import_from_nir fixes dt = 1e-4 s (beta = 1 - 1e-4/tau)",
                "no dt",
                f"dt = {imported.dt:g} s",
                "a graph meant for another dt runs at 1e-4 s in snntorch",
                accounted=np.isclose(imported.dt, 1e-4),
            ),
            Convention(
                "reset",
                "import_from_nir builds Leaky/Synaptic(reset_mechanism='zero', reset_delay=False): "
                "v = 0 after a spike, whatever v_reset. A trained Leaky defaults to 'subtract', the threshold "
                "removed undecayed in the next step (reset_delay=True), and a Synaptic with 'zero' and "
                "reset_delay=True also drops the input of the step after a spike; export_to_nir writes "
                "v_reset = 0 for all of them",
                "v = v_reset",
                "hard reset to v_reset (subtract only when imposed)",
                "a network trained with snntorch's default resets is not the network its NIR file describes "
                "(spikes differ: tests/nir/test_nir_frameworks.py); this report is of the file",
                accounted=all(
                    imported.net.resolved_params(k, imported.dt).get("v_reset", 0.0) == 0.0
                    for k in range(len(imported.net.layers))
                ),
            ),
            Convention(
                "weights",
                "import_from_nir stores Linear weights with torch.Tensor(...) (float32)",
                "any precision",
                "float64",
                "membranes differ by float32 rounding of the weights (about 1e-7 relative)",
            ),
            Convention(
                "v_leak",
                "import_from_nir refuses v_leak != 0; export_to_nir writes v_leak = 0",
                "tau dv/dt = (v_leak - v) + R I",
                "v_rest = v_leak, the initial state",
                "only graphs with v_leak = 0 run in snntorch",
                accounted=True,
            ),
            Convention(
                "parameter shapes",
                "export_to_nir with a scalar beta writes 0-d parameter arrays, which "
                "NIR 1.0.8's type check refuses; give beta and threshold one value per neuron",
                "parameters of the node's shape",
                "1 or n values",
                "export fails, no silent change",
                accounted=True,
            ),
        ]
        uneven = [
            imported.layer_nodes[k]
            for k, (kind, w) in enumerate(self._w_scales(graph))
            if kind == "LIF" and np.unique(w).size > 1 and not np.allclose(w, 1.0)
        ]
        if uneven:
            out.append(
                Convention(
                    "input scaling per neuron",
                    "when r dt/tau differs between a LIF's neurons, "
                    "import_from_nir divides every threshold by the first of its values "
                    "(np.unique(w_scale)[0])",
                    "R per neuron",
                    "R folds into the weights per neuron",
                    f"in {', '.join(map(repr, uneven))} snntorch's neurons with another r dt/tau see "
                    "inputs scaled differently from the graph's: spikes may differ",
                    accounted=False,
                )
            )
        if any(np.any(np.asarray(s) != 1.0) for s in self.v_scales(graph, imported.discretization)):
            out.append(
                Convention(
                    "input scaling",
                    "when r dt/tau != 1 import_from_nir divides the threshold by it instead of scaling the weights",
                    "R scales the input",
                    "R folds into the weights",
                    "snntorch's membrane is NIR's divided by r dt/tau; the comparison rescales it",
                    accounted=True,
                )
            )
        return out


class Norse(Framework):
    name = "norse"
    install = "pip install --no-deps norse==1.1.0 (its requirements would replace torch)"
    module = "norse.torch"

    def load(self, graph: nir.NIRGraph, disc: Discretization) -> tuple[torch.nn.Module, tuple[type, ...], str]:
        from norse.torch import from_nir
        from norse.torch.module.lif_box import LIFBoxCell

        return from_nir(copy.deepcopy(graph), dt=disc.dt), (LIFBoxCell,), ""

    @staticmethod
    def read_state(mod: torch.nn.Module, output: torch.Tensor | tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
        z, state = output
        return z.detach().double().numpy().copy(), state.v.detach().double().numpy().copy()

    def conventions(self, graph: nir.NIRGraph, imported: ImportedNetwork) -> list[Convention]:
        disc = imported.discretization
        taus = [n for n in graph.nodes.values() if chain.type_name(n) in ("LIF", "CubaLIF", "LI")]
        written = (
            float(np.ravel(chain.array(getattr(taus[0], "tau", getattr(taus[0], "tau_mem", 0.0))))[0])
            if taus
            else float("nan")
        )
        out = [
            Convention(
                "time-constant fields",
                "to_nir writes dt / tau_mem_inv (= dt * tau) in tau, tau_mem and tau_syn; from_nir reads "
                "tau_mem_inv = 1 / tau: norse does not re-import its own graphs",
                "tau in seconds",
                f"read as {'dt * tau' if disc.tau_in_file == 'dt*tau' else 'tau'} (the file holds {written:g})",
                "norse's from_nir of this file runs neurons dt times faster than the trained ones (forward "
                "Euler unstable); the framework run below is from_nir of the graph with tau = field / dt",
                accounted=disc.tau_in_file == "dt*tau",
            ),
            Convention(
                "parameters",
                "from_nir stores parameters and weights as float32 (_to_tensor(...).float())",
                "any precision",
                "float64",
                "membranes differ by float32 rounding (about 1e-7 relative)",
            ),
            Convention(
                "input shape",
                "to_nir keeps the batch dimension in the Input node ([1, n]), which nir.read's type check refuses",
                "the shape of one sample",
                "sizes checked along the chain",
                "biosnn reads the file without NIR's type check",
                accounted=True,
            ),
            Convention(
                "initial state",
                "v starts at v_leak",
                "not specified",
                "v starts at v_rest = v_leak",
                "none",
                accounted=True,
            ),
        ]
        kinds = {chain.type_name(n) for n in graph.nodes.values()}
        r_not_one = any(np.any(chain.array(n.r) != 1) for n in graph.nodes.values() if chain.type_name(n) == "LIF")
        optional = [
            Convention(
                "LIF r",
                "from_nir ignores a LIF node's r (it warns when r != 1)",
                "tau dv/dt = ... + R I",
                "R folds into the weights",
                "with r != 1 norse's input is not the graph's",
                accounted=not r_not_one,
            ),
            Convention(
                "LI",
                "from_nir has no converter for NIR's LI (to_nir writes LIBoxCell as LI)",
                "LI node",
                "li",
                "graphs with an LI readout do not run in norse",
                accounted=True,
            ),
            Convention(
                "CubaLIF synapse",
                "from_nir builds the synaptic current as an LIBoxCell leaking towards "
                "v_leak; norse's own LIFCell adds its input to i in full (i += x, no dt/tau_syn), while "
                "to_nir writes it as CubaLIF(w_in = 1, r = 1)",
                "tau_syn dI/dt = -I + w_in S",
                "current synapses, I += a R w_in W / tau_syn",
                "a trained LIFCell network and its NIR file differ by a factor tau_syn/dt on the synaptic input",
                accounted=False,
            ),
        ]
        return out + [
            c
            for c in optional
            if (c.topic == "LI" and "LI" in kinds)
            or (c.topic == "CubaLIF synapse" and "CubaLIF" in kinds)
            or (c.topic == "LIF r" and r_not_one)
        ]


class Spikingjelly(Framework):
    name = "spikingjelly"
    install = (
        "spikingjelly>=2.0 (2.0.0: pip install --no-deps --target DIR spikingjelly==2.0.0 loguru==0.7.3 "
        "and put DIR on PYTHONPATH)"
    )

    def missing(self) -> str | None:
        try:
            from spikingjelly.activation_based import nir_exchange  # noqa: F401
        except ImportError as err:
            from importlib.metadata import PackageNotFoundError, version

            try:
                found = version("spikingjelly")
            except PackageNotFoundError:
                return f"cannot import spikingjelly ({err})"
            return f"the importable spikingjelly ({found}) has no NIR exchange"
        return None

    def load(self, graph: nir.NIRGraph, disc: Discretization) -> tuple[torch.nn.Module, tuple[type, ...], str]:
        import torch
        from spikingjelly.activation_based.nir_exchange import import_from_nir
        from spikingjelly.activation_based.nir_exchange.from_nir import _NIRStatefulModule

        return import_from_nir(copy.deepcopy(graph), dt=disc.dt, dtype=torch.float64), (_NIRStatefulModule,), ""

    @staticmethod
    def read_state(mod: torch.nn.Module, output: torch.Tensor | tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
        spike, state = output
        return spike.detach().double().numpy().copy(), state[0].detach().double().numpy().copy()

    def conventions(self, graph: nir.NIRGraph, imported: ImportedNetwork) -> list[Convention]:
        return [
            Convention(
                "time constants",
                "tau in steps: H = V + (X - (V - V_reset)) / tau_steps, written as "
                "tau = tau_steps * dt; r = 1 (decay_input) or tau_steps",
                "tau in seconds",
                "tau_m = tau",
                "none beyond the Euler mapping",
                accounted=True,
            ),
            Convention(
                "leak potential",
                "the membrane leaks towards V_reset: import_from_nir refuses v_leak != v_reset",
                "v_leak and v_reset independent",
                "v_rest = v_leak",
                "graphs with v_leak != v_reset do not run in spikingjelly",
                accounted=True,
            ),
            Convention(
                "reset",
                "hard reset to V_reset; export_to_nir refuses the soft (subtractive) reset",
                "v = v_reset",
                "hard reset",
                "none",
                accounted=True,
            ),
            Convention(
                "CUBALIF",
                "CUBALIFNode: c = c_decay c + x, v = v_decay v + c (no reset of c), written as "
                "CubaLIF(r = tau_mem/dt, w_in = tau_syn/dt)",
                "CubaLIF",
                "lif with current synapses",
                "none beyond the update order",
                accounted=True,
            ),
        ]


#: the frameworks ``biosnn validate-nir`` can run, by name
FRAMEWORKS = {f.name: f for f in (Snntorch(), Norse(), Spikingjelly())}
