"""Model registry: one declarative spec per model (``biosnn/models/<file>.py``).

The registry-driven tests (``tests/core/test_registry.py``,
``tests/brian_vs_torch/test_registry_equivalence.py``) iterate over
:data:`REGISTRY`: every model here must have a Brian2 layer builder for its
structure and a torch mirror (``biosnn/torch/dynamics/<file>.py``, registered in
``biosnn.torch.dynamics.MIRRORS``), and runs the
equivalence contract on every validation case and target, so a model added here
cannot go untested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from biosnn.core.errors import UnknownModelError

from . import adaptive_lif, gamma_cascade, if_neuron, integrator, lee_refractory, li, lif, plif, wta

if TYPE_CHECKING:
    from ..core.spec import ModelSpec

REGISTRY = {
    spec.name: spec
    for spec in (
        lif.SPEC,
        plif.SPEC,
        lee_refractory.SPEC,
        wta.SPEC,
        li.SPEC,
        gamma_cascade.SPEC,
        adaptive_lif.SPEC,
        if_neuron.SPEC,
        integrator.SPEC,
    )
}


def get_spec(name: str) -> ModelSpec:
    """The :class:`~biosnn.core.spec.ModelSpec` registered as ``name``."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownModelError(f"unknown model {name!r}; registered models: {', '.join(sorted(REGISTRY))}") from None
