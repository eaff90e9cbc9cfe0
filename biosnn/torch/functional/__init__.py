"""Each model's step phases (``<model>.py``, a :class:`~.base.Dynamics` named ``DYNAMICS``)."""
