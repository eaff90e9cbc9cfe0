"""nn.Module wrappers holding learnable tensors; one per model."""

from .lif import LIF
from .plif import PLIF

MODULES = {cls.model_name: cls for cls in (LIF, PLIF)}
