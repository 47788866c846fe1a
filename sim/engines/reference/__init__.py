"""The reference engine: every patient a SimPy process, written from docs/model.md alone.

Double programming for the simulator. It reads only the scenario, the latent draws of
:meth:`sim.model.patient_model.PatientModel.draw`, the statistics package and the output schemas; it
imports nothing of the journey, the response rules, the cutoff code, the SimPy engine or the
analysis, so that an error in those cannot be repeated here. ``docs/reference_engine.md`` says
how it is organised and lists every disagreement found with the default engine.

* :mod:`.patient`: one patient living through cycles, scans and follow-up (the protocol);
* :mod:`.database`: what the database shows at a cutoff (RECIST, PFS, OS) and when cutoffs fall;
* :mod:`.trial`: sites, screening, the enrollment desk and interim looks in calendar time;
* :mod:`.analysis`: one replicate analysed, and its table rows;
* :mod:`.engine`: the chunk engine the runner calls.
"""

from .engine import REFERENCE_ENGINE, ReferenceEngine

__all__ = ["REFERENCE_ENGINE", "ReferenceEngine"]
