"""The equivalence contract and its proof: the tolerances with their reasons (``contract``), the
validation harness behind ``biosnn validate`` (``validate``), and the independent ground truths
the reference is held against: the event-driven solvers (``event_driven``) and the
high-precision oracle (``oracle``)."""
