"""Model registry: one declarative spec per model (installed as ``biosnn.equations``).

Tests iterate over :data:`REGISTRY`, so a model added here cannot go untested.
"""

from biosnn.errors import UnknownModelError

from . import gamma_cascade, lee_refractory, li, lif, plif, wta

REGISTRY = {spec.name: spec for spec in (lif.SPEC, plif.SPEC, lee_refractory.SPEC, wta.SPEC, li.SPEC,
                                         gamma_cascade.SPEC)}


def get_spec(name: str):
    """The :class:`~biosnn.spec.ModelSpec` registered as ``name``."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownModelError(
            f"unknown model {name!r}; registered models: {', '.join(sorted(REGISTRY))}"
        ) from None
