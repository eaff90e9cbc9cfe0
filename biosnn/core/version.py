"""biosnn's version: the one place it is written (``biosnn.__version__``, setup.cfg and CITATION.cff read or match it)."""

__version__ = "0.3.0.dev0"
