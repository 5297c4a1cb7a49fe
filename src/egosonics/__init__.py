"""EgoSonics: synchronized audio for silent egocentric videos.

A map of the code, in the order data flows through it (one 10 s window, see ``clip_spec.ClipSpec``):

    media.video        video file → frames at a constant 30 fps          [300, H, W, 3] uint8
    models.frame_encoder  frames → E_V, one 512-d vector per frame                  [300, 512]
    models.video_to_text  E_V → c_t, the frozen UNet's cross-attention context
    models.syncronet   E_V + noisy sample → 12 skip + 1 middle residual for the frozen UNet
    pipeline           the DDIM loop with classifier-free guidance → model image → models.superres → [1024, 512]
    spectrogram.transform  normalised image [512, 512] ↔ |STFT| [1024, 430]   (documented inverse pairs)
    spectrogram.griffin_lim  |STFT| → waveform (fast Griffin-Lim, Perraudin et al. 2013)
    media.mux          waveform → the same video stream with a new audio track

Beside the inference path: ``loading`` (a model folder → pipeline, device and precision), ``media.audio``
(audio-only decoding, RMS), ``media.windows`` (10 s windows), ``generate`` (videos of any length), ``synth``
(procedural scenes with known events), ``preprocess`` (long videos → shards), ``training`` (accelerate loops),
``evaluation`` (metrics and ``egosonics evaluate``), ``experiments`` (the summarization study), ``app`` (web demo),
``study`` (listening test), ``cli`` (the ``egosonics`` command) with
``commands`` (one module per subcommand, its parser beside its handler) and ``options`` (option ranges; the sampling
options shared by every command that generates).
The floors of the house, and what each may import: docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"

# diffusers finds a saved pipeline's component classes as attributes of their top-level package; import them lazily
# so that `import egosonics` stays light for the media and spectrogram tools.
_LAZY = {
    "EgoSonicsPipeline": "egosonics.pipeline",
    "Syncronet": "egosonics.models.syncronet",
    "VideoToText": "egosonics.models.video_to_text",
    "SpectrogramSuperResolution": "egosonics.models.superres",
    "PixelFrameEncoder": "egosonics.models.frame_encoder",
    "MotionFrameEncoder": "egosonics.models.frame_encoder",
    "MotionOnsetEncoder": "egosonics.models.frame_encoder",
    "ClipFrameEncoder": "egosonics.models.frame_encoder",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'egosonics' has no attribute {name!r}")
