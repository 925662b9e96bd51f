"""torch.utils' layout: `lamina.utils.data` is the very module `lamina.data`, so
`from lamina.utils.data import DataLoader` and `import lamina.utils.data as data` work as in torch."""
import sys

from .. import data

sys.modules[__name__ + ".data"] = data  # one module under two names, not a copy
