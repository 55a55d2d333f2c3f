"""The range a methadone dose must fall in, in whole milligrams: the one definition.

Every dose the clinic records — a prescription, a taper's start, a dose given in clinic, a
take-home bottle, a row of an imported register — is 1 to 400 mg. The floor is one
milligram because a "dose" of 0 mg is no dose (a taper that reaches 0 ends; nothing is
dispensed). The ceiling is well above the maintenance doses clinics give (most clients take
60–120 mg; a few need much more): it is not a clinical limit, which the induction and
titration rules and the clinician decide, but a guard against a slip of the keyboard (an
extra digit) reaching the bottle.

The actions and forms read these names; the database's check constraints on
`Prescription.mg`, `Dose.mg` and `TakeHomeBottle.mg` carry the same numbers (a migration
freezes them), and tests/dosing/test_dosing_limits.py holds them equal to these.
"""

MIN_MG = 1
MAX_MG = 400
