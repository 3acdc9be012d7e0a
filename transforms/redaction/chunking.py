"""Cut long texts into overlapping pieces, so one huge tool result cannot stall a task.

NER time grows faster than linearly with document length on some inputs, and a 5 MB tool result
in a single spaCy doc pins a worker for minutes. Pieces end on whitespace and overlap, so an
entity cut by one boundary lies whole in the next piece; spans found in pieces are mapped back
to offsets in the whole text and merged.
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
