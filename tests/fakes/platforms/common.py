"""What several fakes share: a rate-limit bucket and the measures their checks use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Bucket:
    """``capacity`` writes per ``window`` seconds, as Discord's per-webhook bucket."""

    def __init__(self, capacity: int, window: float) -> None:
        self.capacity, self.window = capacity, window
        self.used: list[float] = []
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until a slot frees)."""
        with self.lock:
            now = time.monotonic()
            self.used = [t for t in self.used if now - t < self.window]
            if len(self.used) >= self.capacity:
                return False, 0, self.window - (now - self.used[0])
            self.used.append(now)
            reset = self.window - (now - self.used[0])
            return True, self.capacity - len(self.used), reset


Check = Callable[[dict[str, Any]], list[str]]


def over(name: str, value: str, measure: Callable[[str], int], limit: int) -> list[str]:
    n = measure(value)
    return [f"{name}: {n} > {limit} ({measure.__name__})"] if n > limit else []


def cp(text: str) -> int:
    return len(text)


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
