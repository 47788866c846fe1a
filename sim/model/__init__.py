"""The trial model: what a patient and a trial do, before any cutoff or analysis.

``recist`` (response categories), ``patient_model`` (latent outcomes), ``journey`` (cycles and
scans), ``recruitment`` (sites screening), ``monitoring`` (interim looks in calendar time),
``trial_state`` and ``conditioning`` (a running trial's state, for forecasts), ``trial_model`` (all
of it built from a scenario), ``pfs_link`` (the PFS moved with the true ORR), ``history`` (what an
engine hands back), ``observe`` (what the database shows at a cutoff) and ``planning`` (the
scenario's figures in closed form).
"""
