"""Taking in what researchers already have, without edits to their code.

- ``wandb``: a drop-in for ``import wandb`` that logs into the hunchlab run
  (``import hunchlab.compat.wandb as wandb``, or put first on the path by ``hunch run``);
- ``wandb_file``: reading W&B's offline ``.wandb`` files, for ``hunch import wandb``;
- ``tensorboard``: reading scalars from TensorBoard event files;
- ``importers``: ``hunch import mlflow|wandb|tensorboard``; ``export``: ``hunch export``.

Nothing here is imported by ``import hunchlab``.
"""
