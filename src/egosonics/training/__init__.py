"""Training of every learned part on prepared shards, with accelerate (one CPU, one GPU, many GPUs or machines).

``data`` (random access over WebDataset shards, a deterministic order) · ``checkpoint`` (safetensors + JSON, no
pickle) · ``config`` (YAML → ``TrainConfig``) · ``tasks`` (what each component trains and its loss) · ``trainer``
(the loop: accumulation, mixed precision, checkpoints, exact resume, validation, logs).
"""
