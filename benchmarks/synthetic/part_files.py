"""The raw layout: `<folder>/dt=YYYY-MM-DD/part-NNNNN.jsonl[.gz]`, appended line by line.

Each part file is opened on first use and buffered; whether it is gzipped is decided from the
seed and its path alone, so the layout does not depend on the order files are first written.
Gzip headers carry no name or time, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path
from typing import BinaryIO

FLUSH_BYTES = 1 << 20


class _Part:
    """One open part file; appended blocks wait in `chunks` (each a line or lines joined by
    newlines) until FLUSH_BYTES are pending, then go out as one write."""

    __slots__ = ("raw", "stream", "chunks", "pending", "lines")

    def __init__(self, path: Path, gzip_level: int | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.raw: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in PartFiles.close
        self.stream: BinaryIO = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, compresslevel=gzip_level, mtime=0)
            if gzip_level is not None else self.raw
        )
        self.chunks: list[bytes] = []
        self.pending = 0  # bytes in chunks, with their newlines
        self.lines = 0

    def flush(self) -> None:
        if self.chunks:
            self.chunks.append(b"")  # the last chunk's newline
            self.stream.write(b"\n".join(self.chunks))
            self.chunks.clear()
            self.pending = 0

    def close(self) -> None:
        self.flush()
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()


class PartFiles:
    """Appends lines to part files under one output root and counts lines per file."""

    def __init__(self, root: Path, seed: int, gzip_rate: float, gzip_level: int) -> None:
        self.root = root
        self.seed = seed
        self.gzip_rate = gzip_rate
        self.gzip_level = gzip_level
        self._paths: dict[tuple[str, str, int], str] = {}
        self._parts: dict[str, _Part] = {}
        self.extra_lines: dict[str, int] = {}  # files written whole (see add_file)

    def path(self, folder: str, day: str, part: int, allow_gzip: bool = True) -> str:
        """The relative path of a part file (decides .jsonl or .jsonl.gz once, from the seed)."""
        key = (folder, day, part)
        found = self._paths.get(key)
        if found is None:
            stem = f"{folder}/dt={day}/part-{part:05d}.jsonl"
            gz = allow_gzip and random.Random(f"{self.seed}/gzip/{stem}").random() < self.gzip_rate
            found = stem + ".gz" if gz else stem
            self._paths[key] = found
        return found

    def append(self, relpath: str, lines: list[bytes]) -> int:
        """Write lines at the end of relpath; returns the 1-based number of the first one."""
        if not lines:
            return self._part(relpath).lines + 1
        return self.append_block(relpath, lines[0] if len(lines) == 1 else b"\n".join(lines), len(lines))

    def append_block(self, relpath: str, data: bytes, count: int) -> int:
        """Write `count` lines given joined by newlines (no final one); returns the 1-based
        number of the first."""
        part = self._parts.get(relpath) or self._part(relpath)
        first = part.lines + 1
        part.chunks.append(data)
        part.pending += len(data) + 1
        part.lines += count
        if part.pending >= FLUSH_BYTES:
            part.flush()
        return first

    def _part(self, relpath: str) -> _Part:
        part = self._parts.get(relpath)
        if part is None:
            part = _Part(self.root / relpath, self.gzip_level if relpath.endswith(".gz") else None)
            self._parts[relpath] = part
        return part

    def add_file(self, relpath: str, data: bytes, lines: int) -> None:
        """A file written whole (e.g. a cut-short gzip), with the lines it was meant to hold."""
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.extra_lines[relpath] = lines

    def close(self) -> dict[str, int]:
        """Close every file; relative path -> lines written, sorted by path."""
        for part in self._parts.values():
            part.close()
        counts = {path: part.lines for path, part in self._parts.items()}
        counts.update(self.extra_lines)
        return dict(sorted(counts.items()))
