"""The network guard shared by the test process and the subprocesses it starts (see sitecustomize.py)."""
