"""Three-topic toy records shared by the AI-routing and dashboard tests: each text is four words
drawn from its topic's vocabulary plus a unique note, so a bag-of-words embedder separates them."""

from __future__ import annotations

import numpy as np

TOPICS = {"sport": "match goal team coach league striker referee stadium",
          "food": "recipe bake flavour kitchen dinner oven spice salad",
          "tech": "laptop software update battery screen server code keyboard"}


def topic_records(n_per: int = 100, seed: int = 0) -> list[dict[str, str]]:
    """``n_per`` records per topic, ``external_id`` = ``"<topic>-<i>"`` (the gold label is its prefix)."""
    rng = np.random.default_rng(seed)
    return [{"text": " ".join(rng.choice(words.split(), 4)) + f" note {label} {i}", "external_id": f"{label}-{i}"}
            for label, words in TOPICS.items() for i in range(n_per)]
