"""What can go wrong between a flow and its Dask workers; each message ends with the fix."""

from core_blocks.errors import CoreBlocksError


class BlockTransferError(CoreBlocksError, ValueError):
    """A block (or secret) that cannot travel to a worker by name: unsaved, or changed since
    it was saved."""


class WorkerSetupError(CoreBlocksError):
    """A worker cannot run the task: it lacks the flow's store, a block's secrets, or the
    task's code."""


class RemoteTaskError(CoreBlocksError, RuntimeError):
    """A task's error that could not travel back as itself (it held a secret value the run
    received, or could not be pickled): its type and masked message."""


class WorkerLostError(CoreBlocksError, RuntimeError):
    """Dask gave up on a task: the workers running it died, or the cluster went away."""
