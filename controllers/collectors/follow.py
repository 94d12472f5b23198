"""Reading a file that another process is still writing: only what is new, decoded safely.

A trial's log (StdOut collector), its metrics file (File collector) and its push file (`tuner.report`) are
all followed this way. The byte offset is public so that the controller can persist it with the
observations it recorded and a restarted controller resumes reading where the old one stopped.
"""

from __future__ import annotations

import codecs
from pathlib import Path


class FileFollower:
    """Returns the text appended to `path` since the last call; a missing file reads as empty."""

    def __init__(self, path: Path, offset: int = 0, max_chunk: int = 4 << 20) -> None:
        self.path = Path(path)
        self.offset = offset
        self._max_chunk = max_chunk
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read_new(self) -> str:
        """Text written since the last call (up to `max_chunk` bytes; call again while it returns text)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(self._max_chunk)
        except FileNotFoundError:
            return ""
        self.offset += len(data)
        return self._decoder.decode(data)

    def read_all_new(self) -> str:
        parts = []
        while chunk := self.read_new():
            parts.append(chunk)
        return "".join(parts)

    def tail_lines(self, n: int = 20) -> list[str]:
        """The last `n` lines of the whole file (for error messages)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(size - 64 * 1024, 0))
                text = handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return text.rstrip("\n").splitlines()[-n:]
