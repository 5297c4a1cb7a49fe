"""Evaluation: metrics as ``update()`` / ``compute()`` objects (``base.Metric``), following EVALUATION.md.

Weight-free (CPU, CI), by module:

    base          Metric: update / compute / reset, higher_is_better
    features      STFT magnitude, Slaney mel filterbank, mel spectrogram, MFCC, delta, frame RMS (torch; match librosa)
    embeddings    logmel_stats (128-d), mfcc_stats (80-d): hand-crafted clip embeddings for FD and KID      §7.2
    frechet       frechet_distance (eigh | sqrtm | eigvals), fad_infinity, kernel_inception_distance;
                  FrechetDistance, KernelInceptionDistance                                  lower is better  §1–3
    spectral      SC, log-STFT magnitude, MR-STFT, LSD, mel-L1, MCD-MFCC, RMS-envelope r, SI-SDR;
                  PairedSpectralMetrics                                                                      §5
    sync          motion (Farneback, frame differences), av_align (AVAlign), onset (OnsetMetrics),
                  xcorr_offset (XCorrOffset, offset_track), clip (load_sync_clip)                            §4.4–4.6
    event_class   event_features (log-mel, attack, ring and envelope statistics, 269-d) and LinearDiscriminant
                  (shrinkage LDA): the event class a clip sounds like, fitted on ground truth (the model card's)
    suite         WeightFreeSuite: all of the above per clip, one JSON-ready report with its settings        §7.2

Weight-based (only with local weight files; never downloaded, sha256 logged):

    inception       Inception-v3 in plain torch (torchvision's parameter names): pytorch-fid's FID Inception,
                    SpecVQGAN's Melception; strict loading from a local file                                  §2
    weight_based    SpectrogramFID (fid_spec_inception), MelceptionMetrics (FID/KID/KL/ISc), specvqgan_mel    §7.3
    classify        kl_divergence (gt ‖ gen), inception_score                                                  §3
    alignment_score AlignmentScore: the paper's learned sync score at 30/15/4 fps (models.alignment)       §4.2
    evaluate        the ``egosonics evaluate`` driver (weight-free suite + WeightBasedConfig)

librosa (onsets) and OpenCV (optical flow) are imported lazily, only by the sync metrics; ``pip install
'egosonics[eval]'`` brings librosa.
"""
