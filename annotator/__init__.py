"""annotator: people and AI label text together.

Importing the package is cheap: torch, transformers, sentence-transformers and gradio are
imported lazily by the modules that need them.
"""

__version__ = "0.1.0"

__all__ = ["Annotator", "Project", "__version__"]


def __getattr__(name: str):  # noqa: ANN202
    """``from annotator import Annotator, Project`` without importing the service at package import."""
    if name in ("Annotator", "Project"):
        from annotator import client

        return getattr(client, name)
    raise AttributeError(f"module 'annotator' has no attribute {name!r}")
