"""EmbeddingCache: round trip, persistence, crash tolerance, several writers, scale."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

from annotator.embeddings import EmbeddingCache
from annotator.core.errors import ConfigError, ValidationError

DIM = 8


def vec(key: str, dim: int = DIM) -> np.ndarray:
    """A vector derived from the key, so any misaligned row is detected."""
    seed = int.from_bytes(key.encode()[-8:].rjust(8, b"\0"), "little") % 2**32
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def vecs(keys: list[str], dim: int = DIM) -> np.ndarray:
    return np.stack([vec(k, dim) for k in keys]) if keys else np.zeros((0, dim), np.float32)


def assert_aligned(cache: EmbeddingCache, keys: list[str]) -> None:
    got, found = cache.get(keys)
    assert found.all(), [k for k, f in zip(keys, found) if not f]
    np.testing.assert_array_equal(got, vecs(keys, cache.dim))


def test_put_get_round_trip_in_input_order(tmp_path):
    cache = EmbeddingCache(tmp_path, "m", DIM)
    assert len(cache) == 0 and cache.get(["a"])[1].tolist() == [False]
    cache.put(["a", "b", "c"], vecs(["a", "b", "c"]))
    got, found = cache.get(["c", "zz", "a"])
    assert found.tolist() == [True, False, True]
    np.testing.assert_array_equal(got, vecs(["c", "a"]))
    assert len(cache) == 3 and "b" in cache


def test_duplicates_are_stored_once(tmp_path):
    cache = EmbeddingCache(tmp_path, "m", DIM)
    cache.put(["a", "b", "a"], vecs(["a", "b", "a"]))
    cache.put(["b", "c"], vecs(["b", "c"]))
    assert len(cache) == 3
    assert cache.dir.joinpath("keys.txt").read_text().split() == ["a", "b", "c"]
    assert cache.dir.joinpath("vectors.f32").stat().st_size == 3 * DIM * 4


def test_persists_across_instances_and_models_stay_apart(tmp_path):
    EmbeddingCache(tmp_path, "org/model one", DIM).put(["a", "b"], vecs(["a", "b"]))
    again = EmbeddingCache(tmp_path, "org/model one", DIM)
    assert len(again) == 2
    assert_aligned(again, ["b", "a"])
    assert len(EmbeddingCache(tmp_path, "other", DIM)) == 0
    assert (tmp_path / "org_model_one" / "meta.json").exists()


def test_meta_mismatch_is_a_config_error(tmp_path):
    EmbeddingCache(tmp_path, "m", DIM).put(["a"], vecs(["a"]))
    with pytest.raises(ConfigError, match="another model"):
        EmbeddingCache(tmp_path, "m", DIM * 2).get(["a"])
    with pytest.raises(ConfigError):  # "m?" has the same folder name as "m"
        len(EmbeddingCache(tmp_path, "m?", DIM))


def test_bad_input_is_rejected_and_nothing_written(tmp_path):
    cache = EmbeddingCache(tmp_path, "m", DIM)
    with pytest.raises(ValidationError, match="shape"):
        cache.put(["a", "b"], vecs(["a"]))
    with pytest.raises(ValidationError, match="NaN"):
        cache.put(["a"], np.full((1, DIM), np.nan))
    with pytest.raises(ValidationError, match="key"):
        cache.put(["a b"], vecs(["a"]))
    assert len(cache) == 0


def test_truncated_keys_file_loses_only_that_vector(tmp_path):
    keys = [f"k{i}" for i in range(5)]
    EmbeddingCache(tmp_path, "m", DIM).put(keys, vecs(keys))
    key_file = tmp_path / "m" / "keys.txt"
    key_file.write_text("".join(k + "\n" for k in keys[:-1]))  # crash before the last key line
    cache = EmbeddingCache(tmp_path, "m", DIM)
    _, found = cache.get(keys)
    assert found.tolist() == [True] * 4 + [False]
    assert_aligned(cache, keys[:-1])
    # The orphan row is cut off on the next put, so new rows line up with their keys.
    cache.put(["new", "k4"], vecs(["new", "k4"]))
    assert_aligned(EmbeddingCache(tmp_path, "m", DIM), keys + ["new"])


def test_half_written_key_line_and_orphan_rows_are_ignored_then_repaired(tmp_path):
    keys = ["a", "b", "c"]
    EmbeddingCache(tmp_path, "m", DIM).put(keys, vecs(keys))
    with (tmp_path / "m" / "vectors.f32").open("ab") as fh:
        fh.write(vecs(["d", "e"]).tobytes()[:-3])  # two orphan rows, the last one partial
    with (tmp_path / "m" / "keys.txt").open("ab") as fh:
        fh.write(b"d")  # crash in the middle of a key line
    cache = EmbeddingCache(tmp_path, "m", DIM)
    assert len(cache) == 3 and "d" not in cache
    cache.put(["x", "y"], vecs(["x", "y"]))
    fresh = EmbeddingCache(tmp_path, "m", DIM)
    assert len(fresh) == 5
    assert_aligned(fresh, keys + ["x", "y"])


def test_keys_without_vectors_are_ignored(tmp_path):
    EmbeddingCache(tmp_path, "m", DIM).put(["a", "b"], vecs(["a", "b"]))
    with (tmp_path / "m" / "keys.txt").open("a") as fh:
        fh.write("ghost\n")  # lost vector write (power loss), key survived
    cache = EmbeddingCache(tmp_path, "m", DIM)
    assert "ghost" not in cache
    cache.put(["c"], vecs(["c"]))
    assert_aligned(EmbeddingCache(tmp_path, "m", DIM), ["a", "b", "c"])


def test_two_instances_on_one_folder_stay_aligned(tmp_path):
    a, b = EmbeddingCache(tmp_path, "m", DIM), EmbeddingCache(tmp_path, "m", DIM)
    assert len(a) == len(b) == 0  # both loaded before anyone wrote
    a.put(["x1", "x2"], vecs(["x1", "x2"]))
    assert "x1" in b  # a get sees what the other appended
    b.put(["x2", "y1"], vecs(["x2", "y1"]))
    a.put(["z1"], vecs(["z1"]))
    for cache in (a, b, EmbeddingCache(tmp_path, "m", DIM)):
        assert len(cache) == 4
        assert_aligned(cache, ["x1", "x2", "y1", "z1"])


def _writer(root: str, worker: int) -> None:
    cache = EmbeddingCache(Path(root), "m", DIM)
    for batch in range(40):
        keys = [f"w{worker}-{batch}-{j}" for j in range(5)] + [f"shared-{batch}-{j}" for j in range(5)]
        cache.put(keys, vecs(keys))


def test_processes_writing_at_once_stay_aligned(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    keys = [f"w{w}-{b}-{j}" for w in range(3) for b in range(40) for j in range(5)]
    keys += [f"shared-{b}-{j}" for b in range(40) for j in range(5)]
    cache = EmbeddingCache(tmp_path, "m", DIM)
    assert len(cache) == len(keys) == 800
    assert_aligned(cache, keys)
    assert (tmp_path / "m" / "keys.txt").read_text().count("\n") == 800


def test_a_million_entries_load_and_align(tmp_path):
    n, dim = 1_000_000, 4
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "meta.json").write_text('{"model": "m", "dim": 4}')
    (folder / "keys.txt").write_text("".join(f"{i:032x}\n" for i in range(n)))
    np.arange(n * dim, dtype=np.float32).tofile(folder / "vectors.f32")
    cache = EmbeddingCache(tmp_path, "m", dim)  # load time: bench/bench_embed.py
    got, found = cache.get([f"{n - 1:032x}", "missing"])
    assert len(cache) == n and found.tolist() == [True, False]
    np.testing.assert_array_equal(got[0], np.arange((n - 1) * dim, n * dim, dtype=np.float32))
