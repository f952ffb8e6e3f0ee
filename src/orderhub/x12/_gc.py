"""Pausing the cyclic garbage collector while a whole file is turned into objects.

Reading builds two tracked containers per segment (the segment and its element list) and creates no
cycles; with the collector running, its repeated passes over the growing heap cost more than the
reading itself (measured: 2.5x on a 5 MB file). The collector is only paused when it was enabled,
and only around code that does not call back into the caller.

Resuming it as such would still cost one pass: every object made while it was paused is young, so
the first allocation afterwards triggers a young collection over all of them (about 40% of reading a
5 MB interchange), which can find nothing to free. So before resuming, the young objects are moved
straight to the oldest generation with `gc.freeze()` + `gc.unfreeze()`, which costs nothing per
object; full collections still examine them. That applies to the young objects of the whole process,
so cyclic garbage made just before a read waits for the next full collection instead of the next
young one. It is skipped when the application froze objects itself (unfreezing would undo that).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, promote: bool = True) -> Iterator[None]:
    """Pause the collector; with `promote`, what was made meanwhile goes to the oldest generation.

    Without `promote` (a streaming reader cutting one buffer, whose segments die soon) the objects
    stay young and the next young collection looks at them once.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if promote and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
