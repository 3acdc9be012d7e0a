"""Cut texts into the pieces they are analysed in: runs of lines, long ones cut with overlap.

Pieces are what the analysis cache remembers, so they follow line boundaries: a system prompt
with one changed line shares every other piece with its siblings. A piece longer than the chunk
size (one huge tool result line) is cut on whitespace into overlapping chunks, so it cannot
stall a task in one enormous spaCy doc, and an entity cut by one boundary lies whole in the
next chunk; spans found in pieces are mapped back to offsets in the whole text and merged.
"""

from __future__ import annotations


def chunk_bounds(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of pieces of at most `size` chars covering text, neighbours sharing >= `overlap`."""
    length = len(text)
    if length <= size:
        return [(0, length)]
    bounds = []
    start = 0
    while True:
        end = min(length, start + size)
        if end < length:
            cut = _last_space(text, start + size // 2, end)
            end = cut if cut > start else end
        bounds.append((start, end))
        if end >= length:
            return bounds
        next_start = max(end - overlap, start + 1)
        aligned = _last_space(text, max(start + 1, next_start - overlap), next_start)
        start = aligned + 1 if aligned > start else next_start


def _last_space(text: str, low: int, high: int) -> int:
    """Index of the last whitespace char in text[low:high], or -1."""
    for index in range(high - 1, low - 1, -1):
        if text[index].isspace():
            return index
    return -1


def piece_bounds(text: str, min_chars: int, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of the pieces text is analysed in: runs of whole lines of at least `min_chars`
    (so a prompt with one changed line still shares its other pieces with its siblings, which
    the per-piece cache then recognises), each cut further if longer than `max_chars`."""
    bounds: list[tuple[int, int]] = []
    start = 0
    length = len(text)
    while start < length:
        end = start
        while end < length and end - start < min_chars:
            newline = text.find("\n", end)
            end = length if newline == -1 else newline + 1
        if end - start <= max_chars:
            bounds.append((start, end))
        else:
            bounds.extend((start + a, start + b) for a, b in chunk_bounds(text[start:end], max_chars, overlap))
        start = end
    return bounds
