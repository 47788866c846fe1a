"""Running: replicates dispatched to workers, checkpointed and gathered into results.

``runner`` (:func:`run` and :func:`run_many`), ``dispatch`` (joblib or Dask workers),
``checkpoints`` (resumable chunk folders), ``sweep`` (grids of scenarios) and ``folder`` (a run
written to and read back from disk).
"""
