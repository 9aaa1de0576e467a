"""The index folder's generations on disk: which is live, who may write, what may be removed.

    search/CURRENT        the live generation's name ("gen-7"), replaced atomically (os.replace)
    search/PREVIOUS       the generation it replaced, kept for readers that still have it open
    search/WRITER.lock    held (flock) by whoever writes: a sync, or a rebuild while it replays and switches
    search/gen-8.building held by a rebuild for as long as it writes gen-8
    search/gen-7/applied.json  which recorded changes this generation holds (a ``Cursor``), written under the lock

Readers only ever read ``CURRENT``; they never create, switch or delete a
generation.  Writers switch and clean up while holding ``WRITER.lock``.  A
generation that is neither current nor previous and whose ``.building`` lock
nobody holds is what a crashed rebuild left behind: the next rebuild or check
removes it.  A generation is removed only once two newer ones have gone live,
so a reader that opened it moments before a switch can finish its search.

Locks are ``fcntl.flock`` locks on separate open files, so they exclude other
processes and other threads of this process alike, and vanish with a crashed
process.  (Whoosh has its own lock per generation for its writers; this one
spans generations, so a change can never be written into a generation that is
about to be replaced.)
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

POINTER = "CURRENT"
PREVIOUS = "PREVIOUS"
WRITER_LOCK = "WRITER.lock"
BUILDING = ".building"
PREFIX = "gen-"
#: Inside a generation's folder (Whoosh leaves files it did not write alone): the changes it holds.
STATE = "applied.json"


class Busy(RuntimeError):
    """Another writer holds the lock (and we were not to wait, or waited long enough)."""


class _Flock:
    """An exclusive flock on one file, taken with an optional wait; released on close."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self, timeout: float | None) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (None: do not wait); return whether we have it.

        A lock on a file someone removed meanwhile (a clean-up) is no lock: we try the path again.
        """
        deadline = time.monotonic() + (timeout or 0)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    self._fd = fd
                    return True
            except (BlockingIOError, FileNotFoundError):
                pass
            os.close(fd)
            if timeout is None or time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def release(self) -> None:
        """Let go of the lock (closing the file releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Generations:
    """The generation folders of one index folder, and the lock every writer takes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._held = threading.local()

    # --- reading -------------------------------------------------------------------

    def _read(self, name: str) -> str | None:
        try:
            return (self.folder / name).read_text(encoding="utf-8").strip() or None
        except (FileNotFoundError, NotADirectoryError):
            return None

    def current(self) -> str | None:
        """Return the live generation's name, or None when there is no index."""
        return self._read(POINTER)

    def previous(self) -> str | None:
        """Return the generation the live one replaced (kept for readers still using it)."""
        return self._read(PREVIOUS)

    def names(self) -> list[str]:
        """Return every generation folder on disk, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [p.name for p in self.folder.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
        return sorted(found, key=_number)

    def read_state(self, name: str) -> dict | None:
        """Return what a generation recorded about the changes it holds, or None when it recorded nothing."""
        try:
            return json.loads((self.folder / name / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_state(self, name: str, state: dict) -> None:
        """Record (atomically) which changes a generation holds; the caller holds the writer lock."""
        assert self.holding(), "recording a generation's changes needs the writer lock"
        _replace_text(self.folder / name / STATE, json.dumps(state, separators=(",", ":")))

    # --- the writer lock -----------------------------------------------------------

    @contextmanager
    def writing(self, timeout: float | None):
        """Hold the writer lock (re-entrant on one thread); raise Busy if another writer keeps it."""
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = _Flock(self.folder / WRITER_LOCK)
        if not lock.acquire(timeout):
            raise Busy("Another process is writing the search index.")
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            lock.release()

    def holding(self) -> bool:
        """Say whether this thread holds the writer lock."""
        return getattr(self._held, "depth", 0) > 0

    # --- building and switching ----------------------------------------------------

    def start_building(self) -> tuple[str, _Flock]:
        """Reserve a new generation folder; return its name and the lock held while it is written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        number = max([_number(p.name) for p in self.folder.glob(f"{PREFIX}*")], default=0) + 1
        while True:
            name = f"{PREFIX}{number}"
            lock = _Flock(self.folder / (name + BUILDING))
            if lock.acquire(None):
                try:
                    (self.folder / name).mkdir()
                    return name, lock
                except FileExistsError:
                    lock.release()
            number += 1

    def finish_building(self, name: str, lock: _Flock, keep: bool) -> None:
        """Let go of a generation's building lock; remove the folder if it is not to be kept."""
        if not keep:
            shutil.rmtree(self.folder / name, ignore_errors=True)
        _unlink(self.folder / (name + BUILDING))
        lock.release()

    def switch_to(self, name: str) -> None:
        """Make a generation live (the caller holds the writer lock); keep the one it replaces."""
        assert self.holding(), "switching generations needs the writer lock"
        old = self.current()
        if old and old != name:
            _replace_text(self.folder / PREVIOUS, old)
        _replace_text(self.folder / POINTER, name)

    def clean_up(self) -> list[str]:
        """Remove generations that are neither live nor previous nor being written; return their names."""
        assert self.holding(), "removing generations needs the writer lock"
        keep = {self.current(), self.previous()}
        removed = []
        for name in self.names():
            if name in keep:
                continue
            lock = _Flock(self.folder / (name + BUILDING))
            if not lock.acquire(None):
                continue  # a rebuild is writing it
            try:
                shutil.rmtree(self.folder / name, ignore_errors=True)
                _unlink(self.folder / (name + BUILDING))
                removed.append(name)
            finally:
                lock.release()
        for orphan in self.folder.glob(f"{PREFIX}*{BUILDING}"):  # a rebuild that crashed before its mkdir
            name = orphan.name[:-len(BUILDING)]
            lock = _Flock(orphan)
            if not (self.folder / name).exists() and lock.acquire(None):
                _unlink(orphan)
                lock.release()
        return removed


def _number(name: str) -> int:
    digits = name[len(PREFIX):].split(".")[0]
    return int(digits) if digits.isdecimal() else 0


def _replace_text(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
