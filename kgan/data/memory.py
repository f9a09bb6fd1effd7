"""How much memory decoded images may take: the budget that decides between holding a source's images in
memory and streaming them from disk.

`load` estimates a source's decoded size before decoding anything (image files × side² × 3 bytes) and
compares it with the budget: by default `MEMORY_FRACTION` of the memory available when the data is
loaded, or a size the user gives (`--memory-budget 2G`, `memory_budget="500MB"`, or bytes as an int).
"""

import os
import re

from kgan.defaults import MEMORY_FRACTION

__all__ = ["available_memory", "default_memory_budget", "format_size", "parse_size"]

_UNITS = {
    "": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
    "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40,
}
_KIB = 1024


def available_memory():
    """Bytes of memory the system could give this process now (Linux `MemAvailable`; else free physical pages)."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * _KIB
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no sysconf on this system: assume 4 GiB
        return 4 * 2**30


def default_memory_budget():
    """`MEMORY_FRACTION` of the available memory, in bytes: training needs the rest."""
    return int(available_memory() * MEMORY_FRACTION)


def parse_size(size, option="memory budget"):
    """Bytes from an int or a string like "512M", "1.5 GB", "2GiB", "2g" or "0" (binary units: 1K = 1024).

    Raises:
        ValueError: negative, or not a size; the message names `option`.
    """
    if isinstance(size, bool):
        raise ValueError(f"{option}: expected a size such as 512M or 2G, got {size!r}.")
    if isinstance(size, (int, float)):
        value = size
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(size))
        if not match or match.group(2).upper() not in _UNITS:
            raise ValueError(f"{option}: expected a size such as 512M or 2G, got {size!r}.")
        value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if value < 0:
        raise ValueError(f"{option}: must not be negative, got {size!r}.")
    return int(value)


def format_size(size):
    """"211 MiB", "4.9 GiB": a byte count for people, in the binary units `parse_size` reads."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"
