"""lamina.vision: torchvision's layout. `datasets` and `transforms` are the very modules
lamina.data.datasets and lamina.data.transforms (one module under two names, as lamina.utils.data
is lamina.data), so `from torchvision import datasets, transforms` maps by changing the name only.
`utils` has make_grid and save_image."""
import sys

from ..data import datasets, transforms
from . import utils  # noqa: F401

sys.modules[__name__ + ".datasets"] = datasets
sys.modules[__name__ + ".transforms"] = transforms
