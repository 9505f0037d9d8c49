"""A generator of hostile import files: the known breakers (deep nesting, huge integers, corrupt and
truncated archives, broken Parquet, duplicate columns, symlink loops, FIFOs, lone surrogates, NUL
bytes, a very wide header, line bombs, decompression bombs, a file cut mid-row) and seeded random
mutations (byte flips, truncations, insertions, duplicated lines) of valid CSV, TSV, JSONL, JSON,
Parquet and compressed files. Deterministic for a seed, so a failure can be replayed.

The bombs are sized against ``FUZZ_LIMITS`` (the import limits scaled down, so each one crosses
its limit within a second): a test that imports them passes those limits in its ``ImportSpec``.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

#: The ImportSpec limits the bombs are sized against (the defaults are 2 GiB, 64 MiB and 10 million rows).
FUZZ_LIMITS = {"max_bytes": 64 * 2**20, "max_line_bytes": 2**20, "max_rows": 50_000}

ROWS = [{"text": f"ticket {k}: printer {'jam' if k % 2 else 'error'} #{k}", "label": "a" if k % 3 else "b",
         "id": f"t{k}", "note": "x" * (k % 7)} for k in range(12)]


def _csv(rows: list[dict], sep: str = ",") -> bytes:
    return pd.DataFrame(rows).to_csv(index=False, sep=sep).encode()


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _parquet(rows: list[dict]) -> bytes:
    import io

    buf = io.BytesIO()
    pd.DataFrame(rows).to_parquet(buf)
    return buf.getvalue()


#: name → bytes of a valid file of that kind
SEEDS: dict[str, Callable[[], bytes]] = {
    "seed.csv": lambda: _csv(ROWS), "seed.tsv": lambda: _csv(ROWS, "\t"), "seed.jsonl": lambda: _jsonl(ROWS),
    "seed.json": lambda: json.dumps(ROWS).encode(), "seed.parquet": lambda: _parquet(ROWS),
    "seed.csv.gz": lambda: gzip.compress(_csv(ROWS)), "seed.jsonl.bz2": lambda: bz2.compress(_jsonl(ROWS)),
    "seed.csv.xz": lambda: lzma.compress(_csv(ROWS)),
}


_CODECS: dict[str, Callable[[bytes], bytes]] = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


def bomb(path: Path, decompressed_bytes: int, *, head: bytes = b"text,label\n",
         block: bytes = b"ticket printer jam,a\n" * 50_000, tail: bytes = b"") -> Path:
    """Write a decompression bomb: ``head``, then ``block`` repeated to ``decompressed_bytes``, then
    ``tail``, compressed by the codec of ``path``'s suffix (.gz, .bz2, .xz).

    The block is compressed once and its compressed bytes repeated (gzip, bzip2 and xz all read
    concatenated streams as one), so a bomb of gigabytes is written in milliseconds and is a few
    hundred KB to a few MB on disk.
    """
    compress = _CODECS[path.suffix]
    member = compress(block)
    with path.open("wb") as f:
        f.write(compress(head))
        for _ in range(max(1, -(-decompressed_bytes // len(block)))):  # rounded up: past the size asked
            f.write(member)
        if tail:
            f.write(compress(tail))
    return path


def bombs(folder: Path) -> Iterator[Path]:
    """Files past ``FUZZ_LIMITS``: decompressed bytes, line length (compressed and plain), rows, JSON depth."""
    over = 4 * FUZZ_LIMITS["max_bytes"]
    yield bomb(folder / "bomb.csv.gz", over)
    yield bomb(folder / "bomb.csv.bz2", over)
    yield bomb(folder / "bomb.jsonl.xz", over, head=b"", block=b'{"text": "ticket", "label": "a"}\n' * 30_000)
    yield bomb(folder / "bomb.json.gz", over, head=b"[", block=b'{"text": "ticket"},' * 50_000, tail=b"{}]")
    yield bomb(folder / "line-bomb-endless.csv.gz", over, block=b"a" * 2**20)
    yield bomb(folder / "line-bomb-endless.jsonl.gz", over, head=b'{"text": "', block=b"a" * 2**20)
    plain_line = folder / "line-bomb-plain.csv"
    plain_line.write_bytes(b"text\n" + b"b" * (3 * FUZZ_LIMITS["max_line_bytes"]))
    yield plain_line
    sparse = folder / "too-large-plain.csv"  # a sparse file: its size on disk is what is refused
    with sparse.open("wb") as f:
        f.write(b"text\nx\n")
        f.truncate(FUZZ_LIMITS["max_bytes"] + 1)
    yield sparse
    rows = FUZZ_LIMITS["max_rows"] + 10
    yield bomb(folder / "row-bomb.csv.gz", rows * 6, head=b"text\n",
               block=b"".join(b"r%04d\n" % k for k in range(10_000)))
    yield bomb(folder / "row-bomb.csv.xz", rows * 6, head=b"text\n",
               block=b"".join(b"s%04d\n" % k for k in range(10_000)))
    deep = '{"text": "x", "m": ' + "[" * 100 + "]" * 100 + "}\n"
    (folder / "deep-100.jsonl").write_text('{"text": "fine"}\n' + deep)
    yield folder / "deep-100.jsonl"
    (folder / "deep-100.json").write_text('[{"text": "fine"}, ' + deep.strip() + "]")
    yield folder / "deep-100.json"
    (folder / "bigint-line-3.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c", "n": ' + "7" * 5000 + "}\n")
    yield folder / "bigint-line-3.jsonl"


def known_breakers(folder: Path) -> Iterator[Path]:
    """The files that once ended in a traceback, a hang or a silent partial import."""
    def write(name: str, data: bytes | str) -> Path:
        path = folder / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
        return path

    yield write("nested.json", "[" * 3000 + "]" * 3000)
    yield write("nested.jsonl", '{"text": "x", "m": ' + "[" * 3000 + "]" * 3000 + "}\n")
    yield write("bigint.jsonl", '{"text": "x", "n": ' + "9" * 5000 + "}\n")
    yield write("bigint.json", '[{"text": "x", "n": ' + "9" * 5000 + "}]")
    yield write("surrogate.jsonl", '{"text": "ok", "m": "\\udfff"}\n{"text": "\\ud800 lone", "m": 1}\n')
    yield write("nul.jsonl", '{"text": "a\\u0000b"}\n{"text": "\\u0000"}\n')
    yield write("nul.csv", b"text\nfine\nbad\x00byte\n")
    gz = gzip.compress(_csv(ROWS) * 20)
    yield write("corrupt.csv.gz", gz[:10] + b"\x00" * 20 + gz[30:])
    yield write("truncated.csv.gz", gz[: len(gz) // 2])
    bz = bz2.compress(_csv(ROWS) * 20)
    yield write("truncated.csv.bz2", bz[: len(bz) // 2])
    yield write("corrupt.csv.bz2", bz[:8] + b"garbage" * 5)
    xz = lzma.compress(_csv(ROWS) * 20)
    yield write("truncated.csv.xz", xz[: len(xz) // 2])
    yield write("corrupt.csv.xz", xz[:8] + b"garbage" * 5)
    pq = _parquet(ROWS)
    yield write("corrupt.parquet", pq[: len(pq) // 2] + b"PAR1")
    yield write("notparquet.parquet", b"PAR1 this is not parquet PAR1")
    import pyarrow as pa
    import pyarrow.parquet as papq

    papq.write_table(pa.Table.from_arrays([pa.array(["a", "b"]), pa.array(["c", "d"])], names=["text", "text"]),
                     folder / "duplicate-columns.parquet")
    yield folder / "duplicate-columns.parquet"
    loop_a, loop_b = folder / "loop-a.csv", folder / "loop-b.csv"
    os.symlink(loop_b.name, loop_a)
    os.symlink(loop_a.name, loop_b)
    yield loop_a
    fifo = folder / "fifo.csv"
    os.mkfifo(fifo)
    yield fifo
    yield Path("/dev/zero")
    yield write("wide.csv", ",".join(f"c{k}" for k in range(50_000)) + "\ntext\n")
    yield write("cut-mid-row.csv", 'text,label\nhello,a\n"unterminated,b')
    yield write("empty.csv", b"")
    yield write("header-only.csv", "text,label\n")
    yield write("bom-only.csv", b"\xef\xbb\xbf")
    yield write("binary.csv", bytes(range(256)) * 8)
    yield write("latin1.csv", "text\ncaf\xe9\n".encode("latin-1"))
    with gzip.open(folder / "line-bomb.csv.gz", "wb") as f:
        f.write(b"text\n" + b"a" * (4 << 20) + b"\n")
    yield folder / "line-bomb.csv.gz"
    yield write("object-text.jsonl", '{"text": {"a": 1}}\n{"text": [1, 2]}\n')
    yield write("not-objects.jsonl", "1\n2\n[3]\n")
    yield write("trailing-garbage.json", json.dumps(ROWS) + "garbage")
    yield write("huge-label.csv", "text,label\nx," + "L" * 100_000 + "\n")
    yield write("many-labels.csv", "text,label\n" + "".join(f"t{k},L{k}\n" for k in range(500)))
    yield write("html-label.csv", "text,label\nx,<img src=x onerror=alert(1)>\ny,a|b\n")
    yield write("long-id.csv", "text,id\nx," + "i" * 5000 + "\n")
    yield from bombs(folder)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["flip", "truncate", "insert", "duplicate", "splice", "zero"])
    if not data:
        return b"\x00"
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    if kind == "insert":
        at = rng.randrange(len(data))
        junk = rng.choice([b'"', b"\x00", b"\n", b",,,", b"{", b"\xff\xfe", b"\\udfff", b"\r", "é".encode()])
        return data[:at] + junk * rng.randint(1, 50) + data[at:]
    if kind == "duplicate":
        lines = data.split(b"\n")
        k = rng.randrange(len(lines))
        return b"\n".join(lines[:k] + [lines[k]] * rng.randint(2, 5) + lines[k:])
    if kind == "splice":
        a, b = sorted(rng.randrange(len(data)) for _ in range(2))
        return data[:a] + data[b:]
    return data[: len(data) // 2] + b"\x00" * rng.randint(1, 100) + data[len(data) // 2:]


def mutants(folder: Path, n: int, seed: int = 0) -> Iterator[Path]:
    """``n`` mutated copies of the seed files (round robin over the seeds)."""
    rng = random.Random(seed)
    seeds = list(SEEDS.items())
    for k in range(n):
        name, make = seeds[k % len(seeds)]
        data = make()
        if name.endswith((".gz", ".bz2", ".xz")) and rng.random() < 0.5:
            # half of the compressed mutants are valid archives of a mutated file
            inner = _mutate(gzip.decompress(data) if name.endswith(".gz") else bz2.decompress(data)
                            if name.endswith(".bz2") else lzma.decompress(data), rng)
            opener = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[Path(name).suffix]
            data = opener(inner)
        else:
            data = _mutate(data, rng)
        path = folder / f"mutant-{k:03d}-{name}"
        path.write_bytes(data)
        yield path
