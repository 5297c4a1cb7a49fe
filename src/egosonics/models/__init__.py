"""Learned parts, each a diffusers ``ModelMixin`` + ``ConfigMixin``; their hyperparameters are ``__init__`` arguments.

``frame_encoder`` (frames → E_V) · ``syncronet`` (E_V → UNet residuals) · ``video_to_text`` (E_V → c_t) ·
``superres`` (model image → 1024 × 512) · ``presets`` (``sd21``, ``tiny`` and ``tiny-motion`` architectures) ·
``alignment`` (the Alignment Score classifier, evaluation only) · ``local_weights`` (third-party weight files from
local paths).
"""
