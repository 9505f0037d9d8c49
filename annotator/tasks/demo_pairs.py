"""A small preference set whose better side is known by construction (tests, bench, demo).

Three kinds of pair: a correct vs a corrupted arithmetic answer, a correct vs a wrong capital city,
and a relevant vs an off-topic answer. ``better`` names the original response (A or B) that is
right; which side is A is a seeded coin, so a judge that always prefers A scores about 50 %.
"""

from __future__ import annotations

import random
from typing import Any

CAPITALS = [
    ("France", "Paris", "Madrid"), ("Italy", "Rome", "Vienna"), ("Japan", "Tokyo", "Seoul"),
    ("Germany", "Berlin", "Lisbon"), ("Spain", "Madrid", "Paris"), ("Canada", "Ottawa", "Dublin"),
    ("Egypt", "Cairo", "Nairobi"), ("Russia", "Moscow", "Warsaw"), ("Greece", "Athens", "Oslo"),
    ("Norway", "Oslo", "Athens"), ("Poland", "Warsaw", "Prague"), ("Kenya", "Nairobi", "Cairo"),
    ("Portugal", "Lisbon", "Berlin"), ("Austria", "Vienna", "Rome"), ("Ireland", "Dublin", "Ottawa"),
]
HOWTO = [
    ("How do I boil an egg?", "Put the egg in boiling water for about nine minutes, then cool it in cold water."),
    ("How do I make tea?", "Pour hot water over a tea bag, wait three minutes, then remove the bag."),
    ("How can I sleep better?", "Go to bed at the same time each night and avoid screens before sleeping."),
    ("How do I water a cactus?", "Water it deeply but rarely, only when the soil is completely dry."),
    ("How do I clean a cast iron pan?", "Rinse it with hot water, scrub gently, dry it and rub in a little oil."),
    ("How do I save money on groceries?", "Plan meals for the week, write a list and buy store brands."),
    ("How do I learn to type faster?", "Practise touch typing every day for fifteen minutes without looking."),
    ("How do I keep bread fresh?", "Store it in a bread box or a paper bag at room temperature."),
]
OFF_TOPIC = [
    "The Pacific is the largest ocean on Earth.", "Football matches last ninety minutes.",
    "Penguins live mostly in the southern hemisphere.", "The stock market closed slightly higher today.",
    "Mount Everest is the highest mountain in the world.", "Jazz was born in New Orleans.",
]


def _arithmetic(rng: random.Random) -> tuple[str, str, str]:
    a, b = rng.randint(2, 60), rng.randint(2, 60)
    wrong = a + b + rng.choice([-11, -10, -3, 3, 7, 10])
    return f"What is {a} + {b}?", f"{a} + {b} = {a + b}.", f"{a} + {b} = {wrong}."


def _capital(rng: random.Random) -> tuple[str, str, str]:
    country, right, wrong = rng.choice(CAPITALS)
    return (f"What is the capital of {country}?", f"The capital of {country} is {right}.",
            f"The capital of {country} is {wrong}.")


def _relevance(rng: random.Random) -> tuple[str, str, str]:
    question, answer = rng.choice(HOWTO)
    return question, answer, rng.choice(OFF_TOPIC)


KINDS = {"arithmetic": _arithmetic, "capital": _capital, "relevance": _relevance}


def preference_pairs(n: int = 60, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` records: prompt, response_a, response_b, better ("A" | "B"), kind. Prompts are distinct."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    kinds = list(KINDS)
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        kind = kinds[len(out) % len(kinds)]
        prompt, good, bad = KINDS[kind](rng)
        if prompt in seen:
            if kind != "arithmetic":  # the small lists run out: vary the prompt's wording
                prompt = f"{prompt} (question {len(out) + 1})"
            else:
                continue
        seen.add(prompt)
        a_better = rng.random() < 0.5
        out.append({"prompt": prompt, "response_a": good if a_better else bad,
                    "response_b": bad if a_better else good, "better": "A" if a_better else "B", "kind": kind})
    return out


def rating_items(n: int = 20, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` records: prompt, response, good (bool: the correct answer, else the corrupted one)."""
    out = []
    for i, pair in enumerate(preference_pairs(n, seed)):
        good = i % 2 == 0
        right = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
        wrong = pair["response_b"] if pair["better"] == "A" else pair["response_a"]
        out.append({"prompt": pair["prompt"], "response": right if good else wrong, "good": good})
    return out


def correction_items(n: int = 20, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` records: prompt, response (the corrupted answer), fixed (the correct one)."""
    out = []
    for pair in preference_pairs(n, seed):
        right = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
        wrong = pair["response_b"] if pair["better"] == "A" else pair["response_a"]
        out.append({"prompt": pair["prompt"], "response": wrong, "fixed": right})
    return out
