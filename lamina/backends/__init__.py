"""torch.backends' flags that scripts set or read (`cudnn.benchmark = True`,
`mps.is_available()`). lamina has neither cuDNN nor MPS: the flags are accepted and change nothing."""
from . import cudnn, mps  # noqa: F401
