"""Managed targets: start, readiness, sampling and always-stop (the drive stage's side).

``managed`` runs a start command; ``procguard`` holds the OS guards (port owner,
die-with-apply); ``sampler`` samples the target's process tree; ``session`` drives
one spec's profiles against a started target.
"""
