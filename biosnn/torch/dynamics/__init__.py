"""Each registered model's torch mirror: a :class:`~.base.Dynamics` subclass (its step phases), registered
explicitly in :data:`MIRRORS` by its spec's name, beside the spec it mirrors (``biosnn/models/<file>.py`` and
``biosnn/torch/dynamics/<file>.py`` share a file name)."""

from __future__ import annotations

from ...core.errors import BiosnnInputError
from ...core.spec import ModelSpec
from ...models import adaptive_lif as adaptive_lif_spec
from ...models import gamma_cascade as gamma_cascade_spec
from ...models import if_neuron as if_spec
from ...models import integrator as integrator_spec
from ...models import lee_refractory as lee_spec
from ...models import li as li_spec
from ...models import lif as lif_spec
from ...models import plif as plif_spec
from ...models import wta as wta_spec
from .adaptive_lif import AdaptiveLIFDynamics
from .base import Dynamics
from .gamma_cascade import GammaDynamics
from .if_neuron import IFDynamics
from .integrator import IntegratorDynamics
from .lee_refractory import LeeDynamics
from .li import LIDynamics
from .lif import LIFDynamics
from .plif import PLIFDynamics
from .wta import WTADynamics

#: the mirror of each model, by the registered spec's name
MIRRORS: dict[str, type[Dynamics]] = {
    lif_spec.SPEC.name: LIFDynamics,
    plif_spec.SPEC.name: PLIFDynamics,
    lee_spec.SPEC.name: LeeDynamics,
    wta_spec.SPEC.name: WTADynamics,
    li_spec.SPEC.name: LIDynamics,
    gamma_cascade_spec.SPEC.name: GammaDynamics,
    adaptive_lif_spec.SPEC.name: AdaptiveLIFDynamics,
    if_spec.SPEC.name: IFDynamics,
    integrator_spec.SPEC.name: IntegratorDynamics,
}


def dynamics_for(spec: ModelSpec) -> type[Dynamics]:
    """The :class:`Dynamics` subclass mirroring ``spec`` (:data:`MIRRORS`)."""
    try:
        return MIRRORS[spec.name]
    except KeyError:
        raise BiosnnInputError(
            f"model {spec.name!r} has no torch mirror: register its Dynamics in "
            "biosnn/torch/dynamics/__init__.py (MIRRORS)"
        ) from None
