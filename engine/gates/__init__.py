"""The judge stage: gate kinds and verdicts, the checklist, abort-on-fail and the narrative.

``evaluate`` holds the gate registry and the verdict; ``abort`` the live abort-on-fail
check; ``checklist`` the flow's checklist; ``narrative`` lessons and next steps.
"""
