"""Names a package loads on first use (PEP 562): ``import biosnn`` stays fast (no Brian2, no torch) while
``biosnn.simulate``, ``biosnn.torch.Layer`` or ``biosnn.brian`` resolve when first touched."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module


def lazy_attributes(
    package: str, namespace: dict, names: Mapping[str, str], submodules: Iterable[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each of ``names`` is imported from its module (relative
    to the package) on first use, each of ``submodules`` is imported as ``package.<name>``; the value is
    then kept in the package's ``namespace`` (its ``globals()``), so the lookup runs once."""
    submodules = tuple(submodules)

    def __getattr__(name: str):
        if name in names:
            value = getattr(import_module(names[name], package), name)
        elif name in submodules:
            value = import_module(f".{name}", package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names) | set(submodules))

    return __getattr__, __dir__
