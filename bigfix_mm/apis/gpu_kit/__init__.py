"""The GPU run kit behind ``tools/gpu_check.py``: every check that needs a GPU, in one
command, on a machine that has torch but no OpenMMLab (docs/performance.md, "On a GPU
machine").

- :mod:`.cases`: the checks (the speed table, the device's peak), their time limits;
- :mod:`.training`: ``tools/train.py`` killed and resumed, and one FSDP step;
- :mod:`.agreement`: the samplers on the device against the CPU;
- :mod:`.driver`: each check in a child process with its limit, the JSON lines, the table;
- :mod:`.kill_hook`: the hook that kills a training run at a set iteration.
"""
