"""The task and flow runtime: retries, timeouts, caching, hooks, concurrency and run history.

Everything runs in-process; the store keeps run history, cached-result metadata and
concurrency leases, so no server is needed.
"""
