"""annotator: people and AI label text together.

Importing the package is cheap: torch, transformers, sentence-transformers and gradio are
imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
