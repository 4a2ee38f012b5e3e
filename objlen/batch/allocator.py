"""Freed large buffers kept for reuse, in a process that runs a batch.

Every photo of a batch allocates and frees the same large buffers: a 12 MP
photo's mask is 12 MB as the endpoint's PNG is decoded, and again as its
array; the picture decoded at half size for the annotated picture is 9 MB.
glibc's malloc serves a buffer above its mmap threshold with fresh pages
from the kernel and gives them back when it is freed, and it gives back the
free top of its heaps above the trim threshold, so the next photo's buffers
are fresh pages again, each zeroed by the kernel on first touch: about 5,500
page faults per 12 MP photo. :func:`reuse_freed_buffers` raises both limits,
so those buffers are taken from what the previous photo freed (measured in
``bench/batch.py``'s batch of 12 MP photos, three runs each way: 0.100-0.108
s of CPU per photo without, 0.080-0.090 with).

It changes the whole process's allocator, so it is for a process that runs
a batch and nothing else (the ``batch`` command), not for the app's server.
The cost is memory kept after a photo: at most :data:`KEEP_FREE_BYTES` at the
top of each of malloc's heaps (measured: peak RSS +75 MB at 12 MP,
concurrency 8).
"""

from __future__ import annotations

import ctypes

#: glibc's ``mallopt`` parameters (``<malloc.h>``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Buffers up to this size come from malloc's heaps, not fresh pages: a 12 MP
#: mask (12 MB), a photo of up to 10 MP decoded (30 MB).
REUSE_BELOW_BYTES = 32 * 2**20
#: Free memory a heap keeps at its top instead of giving it back.
KEEP_FREE_BYTES = 64 * 2**20


def reuse_freed_buffers() -> bool:
    """Make malloc keep freed buffers of up to :data:`REUSE_BELOW_BYTES` for
    reuse and give back a heap's free top only above :data:`KEEP_FREE_BYTES`,
    for the rest of the process.

    Returns:
        ``True`` when the C library took both settings (glibc); ``False`` when
        it has no ``mallopt`` or refused one (musl, macOS): nothing changed
        then but what it took.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    reuse = mallopt(M_MMAP_THRESHOLD, REUSE_BELOW_BYTES)
    keep = mallopt(M_TRIM_THRESHOLD, KEEP_FREE_BYTES)
    return bool(reuse and keep)


__all__ = ["KEEP_FREE_BYTES", "REUSE_BELOW_BYTES", "reuse_freed_buffers"]
