"""Neural-network building blocks: Module, Parameter, layers, losses and init."""
from . import functional  # noqa: F401
