"""lamina.vision: what torchvision gives image code. For now `utils` (make_grid, save_image)."""
from . import utils  # noqa: F401
