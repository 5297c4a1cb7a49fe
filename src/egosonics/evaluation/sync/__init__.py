"""Weight-free audio-visual synchronisation metrics (EVALUATION.md §4.4–4.6).

    motion        frames → per-frame motion (Farneback flow magnitude, grey-level differences)
    av_align      AV-Align, TempoTokens' IoU of librosa onsets and optical-flow peaks (higher is better)
    onset         CondFoleyGen onset count accuracy / hit accuracy / AP, and onset F1 at ±50 ms (higher is better)
    xcorr_offset  audio-onset vs motion-onset cross-correlation offset in frames, per clip and over time (|·| lower
                  is better)
    pooled        onset F1 pooled over clips, best lag of the onset envelopes, paired bootstrap against chance
    click_track   the non-learned reference soundtrack: a click at every sudden stop of motion
"""
