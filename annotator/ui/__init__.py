"""The Gradio app. The only package that imports gradio."""

from annotator.ui.app import AnnotatorUI

__all__ = ["AnnotatorUI"]
