"""`in_thread`: the async twin of a blocking method, run in a worker thread.

It lives in core_blocks.dispatch now, with the sync-or-async rule that uses it; this name stays
for the code that imports it from here.
"""

from core_blocks.dispatch import in_thread

__all__ = ["in_thread"]
