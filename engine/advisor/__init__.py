"""The advisor stage: the flow's common failure modes, found in what was run and measured.

Runs after analysis and before the gates (engine/pipeline.py); each rule returns
``Advice`` with a stable code, its evidence and the flow's remediation. The ``advice``
gate kind can make chosen codes fail a spec.
"""
