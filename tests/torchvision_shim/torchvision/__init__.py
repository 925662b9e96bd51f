"""A stand-in for the few torchvision pieces that examples/pytorch use, written on torch, for
tests only: the torchvision wheels on this machine are built for CUDA torch and fail to import
beside torch's CPU build. It lets tests run the examples' text, mapped back to torch, unchanged."""
from . import datasets, transforms, utils  # noqa: F401
