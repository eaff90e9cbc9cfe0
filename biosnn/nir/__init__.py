"""The NIR <-> Brian2 bridge: read a NIR graph into biosnn, write biosnn networks as NIR.

NIR, the Neuromorphic Intermediate Representation (Pedersen, Abreu, Jobst,
Lenz, Fra, Bauer, Muir, Zhou, Vogginger, Heckel, Urgese, Shankar, Stewart,
Sheik & Eshraghian 2024, Nat. Commun. 15:8122), writes spiking networks as
continuous-time ODEs (``LIF``: ``tau dv/dt = (v_leak - v) + R I``; ``CubaLIF``:
``tau_syn dI/dt = -I + w_in S``, ``tau_mem dv/dt = (v_leak - v) + R I``) joined by
linear maps and delays, and leaves the discretization to every backend. biosnn
reads such a graph into its network description and runs it through the exact
Brian2 reference and the torch mirror, so a network trained in snntorch, norse
or spikingjelly can be checked in continuous time.

    from biosnn.nir import Discretization, from_nir, to_nir, read, write
    imported = from_nir("net.nir", Discretization.snntorch())   # states how the graph was made
    layers = imported.simulate(raster, backend="brian2")         # [T, B, N_in] spike raster
    graph = to_nir(biosnn_net)                                    # NIR's Dirac semantics, seconds

Modules: ``discretization`` (what an import must state), ``chain`` (the graph
as hops between neuron nodes), ``importer`` (:func:`from_nir`), ``exporter``
(:func:`to_nir`), ``frameworks`` (each framework's own forward pass),
``validate`` (framework, mirror and Brian2 side by side: ``biosnn
validate-nir``). ``docs/nir.md`` gives the mapping and the conventions found.
"""

from .discretization import FRAMEWORK_PRESETS, Discretization
from .exporter import to_nir, write
from .importer import ImportedNetwork, from_nir, read

__all__ = ["Discretization", "FRAMEWORK_PRESETS", "ImportedNetwork", "from_nir", "read", "to_nir", "write"]
