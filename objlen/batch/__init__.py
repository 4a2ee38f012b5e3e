"""Many photos at once: inputs, the worker pool, a journal that makes a batch resumable,
and the results."""
