"""nn.Module wrappers holding learnable tensors; one per model."""

from .gamma_cascade import GammaCascade
from .lee_refractory import WTA, LeeRefractory
from .li import LI
from .lif import LIF
from .plif import PLIF

MODULES = {cls.model_name: cls for cls in (LIF, PLIF, LeeRefractory, WTA, LI, GammaCascade)}
