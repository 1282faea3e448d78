"""Found as ``wandb`` when ``hunch run`` captures W&B: the folder above this one is put first
on the entry's ``PYTHONPATH``. It replaces itself in ``sys.modules`` (Python's import then
returns the replacement) with hunchlab's stand-in, or, in tee mode, with the real wandb
patched to log to both.
"""

from hunchlab.compat.wandb_tee import activate

activate(__file__)
