"""The analysis: many replicates cut and analysed as the trial would, tabulated and summarised.

``batch`` (every replicate's cutoffs and observed rows, :mod:`.observed_rows`, and its columns,
:mod:`.columns`), ``records`` (the stored tables' schemas), ``tables`` (the look and patient
tables), ``decisions`` (assurance and decision errors) and ``summary`` (the operating
characteristics with their Monte Carlo standard errors).
"""
