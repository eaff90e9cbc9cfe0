"""The core: what every other layer builds on, importing nothing else of biosnn.

The model spec's types (``spec``), the one time grid and step order (``schedule``), units,
spike trains, traces and layer activities, errors, the checked path layer (``io``), memory
limits (``resources``), study results (``results``) and torch's thread count (``threads``).
"""
