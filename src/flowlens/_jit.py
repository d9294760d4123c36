"""Helpers for the compiled kernels: borrowed arrays, and blocks of rows on threads.

``borrowed`` gives a kernel's hot loop arrays without a reference count. Numba counts
references to every array it passes to a helper, even an inlined one, with an atomic
increment and decrement; a kernel that calls a dozen small helpers per period spends
a third of its time there (the forecast kernel: 0.38 s of its 0.38 s single-threaded
on 20,000 x 120 months became 0.24 s borrowed), and threads that share an input
array contend for its counter. A borrowed array has no counter to update.

Only for arrays that outlive every use of the borrowed copy: the caller's arguments
(the Python caller holds them for the call) and arrays the caller allocated and passes
down (the caller holds them until the callee returns). Never return a borrowed
array, or store it where it outlives its owner.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numba
from numba.core import cgutils
from numba.extending import intrinsic


def _borrowed(typingctx: Any, array: Any) -> Any:
    """The same array (data, shape, strides) with no reference count."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        source = context.make_array(array)(context, builder, value=args[0])
        view = context.make_array(array)(context, builder)
        view.meminfo = cgutils.get_null_value(view.meminfo.type)  # type: ignore[no-untyped-call]
        view.parent = source.parent
        view.nitems = source.nitems
        view.itemsize = source.itemsize
        view.data = source.data
        view.shape = source.shape
        view.strides = source.strides
        return view._getvalue()

    return array(array), codegen


borrowed = cast("Callable[[Any], Any]", intrinsic(_borrowed))
"""``borrowed(array)`` in a compiled function: the array without a reference count."""


def in_blocks(n_items: int, run: Callable[[int, int], None]) -> None:
    """``run(block, n_blocks)`` for every block of ``n_items`` rows, each block on a thread.

    As many blocks as numba's configured threads (read without starting its threading
    layer: the kernels use no ``prange``), at most one per row; the compiled blocks
    release the interpreter lock. One serial compiled function on threads compiles in
    about half the time of a ``prange`` loop around the same body, for the same speed
    (the forecast kernel: 18.5 s -> 10 s on a fresh install; the informal kernels:
    11.2-11.5 s -> 4.0-4.1 s). Each block writes only its own rows, so the outputs do
    not depend on the number of blocks.
    """
    n_blocks = max(1, min(n_items, int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))))
    if n_blocks == 1:
        run(0, 1)
        return
    with ThreadPoolExecutor(max_workers=n_blocks) as pool:
        list(pool.map(lambda block: run(block, n_blocks), range(n_blocks)))
