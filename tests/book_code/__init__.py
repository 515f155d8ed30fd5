"""Helpers for the book-code tests: synthetic MNIST files and the book's own code.

The ``*_notebook.py`` files hold notebook cells of *Deep Learning from Scratch*'s
repository (github.com/SethHWeidman/DLFS_code), typed as a reader types them, in
the ``# %%`` cell format; the tests run them unchanged. ``book_optimizers.py`` holds
the book's optimizer classes as printed.
"""
