"""Cross-backend studies: train in torch (``biosnn.training``), export, run the Brian2 twin.

Each study is one module: its task, network, training objective and the
evaluation of the trained network in both backends on the same test spikes.
"""
