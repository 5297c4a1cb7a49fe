"""EgoSonics: synchronized audio for silent egocentric videos.

A map of the code, in the order data flows through it (one 10 s window, see ``clip_spec.ClipSpec``):

    media.video        video file → frames at a constant 30 fps          [300, H, W, 3] uint8
    models.*           frames → E_V → Syncronet + frozen UNet → spectrogram image     (models issue)
    spectrogram.image  normalised image [512, 512] ↔ |STFT| [1024, 430]   (documented inverse pair)
    spectrogram.griffin_lim  |STFT| → waveform (fast Griffin-Lim, Perraudin et al. 2013)
    media.mux          waveform → the same video stream with a new audio track

Beside the inference path: ``media.audio`` (audio-only decoding, RMS), ``media.windows`` (10 s windows),
``evaluation.spectral`` (paired spectral metrics), ``cli`` (the ``egosonics`` command).
"""

__version__ = "0.1.0"
