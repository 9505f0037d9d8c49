"""Start the annotator app: ``python launch.py`` (what ``make run`` does).

Settings come from ANNOTATOR_* environment variables or an annotator.toml in the data directory.
"""

import logging
import os

# No model hub here: the embedded defaults are installed packages (see README).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from annotator.ui.launch import run_app  # noqa: E402
from annotator.core.config import Settings  # noqa: E402

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run_app(Settings())
