"""The book's notebook helpers: ``lincoln.utils.mnist`` and ``lincoln.utils.np_utils``.

*Deep Learning from Scratch* imports ``from lincoln.utils import mnist`` to load
MNIST and ``from lincoln.utils.np_utils import softmax`` (and the shape checks);
both paths work here.
"""

from . import mnist, np_utils

__all__ = ["mnist", "np_utils"]
