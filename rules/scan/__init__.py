"""The scan gate: `python -m cli.scan` waits for ECR's scan of an image and decides.

The core (severities, findings, the allowlist, the gate decision and the three renderers) is plain
Python so that it is tested without AWS; `ecr.py` is the only module that talks to ECR.
"""
