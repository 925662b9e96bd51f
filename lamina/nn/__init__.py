"""Neural-network building blocks: Module, Parameter, layers, losses and init."""
from . import functional, init  # noqa: F401
from .module import Module, Parameter  # noqa: F401
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .summary import summary  # noqa: F401
from . import utils  # noqa: F401
