"""Fast kernels: fresh, isolated kernel processes forked from a warm template.

A template process imports ipykernel and a notebook's (installed, fork-safe) modules once,
then forks a kernel per run (:mod:`.forkserver`). A jupyter_client kernel provisioner
(:mod:`.provisioner`) asks it for kernels, so papermill and nbclient use them unchanged;
:mod:`.client` finds, starts and stops templates; :mod:`.preload` decides what a template
imports and when a notebook must fall back to a plain kernel.
"""
