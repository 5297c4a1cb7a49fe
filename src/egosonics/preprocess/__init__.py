"""Long egocentric videos → 10 s training clips in WebDataset shards (paper Sec. C).

``segment`` (pure: window choice and the RMS decision with its reason) · ``metadata`` (Ego4D-style scenarios and
narrations) · ``shards`` (deterministic tar writing) · ``prepare`` (the resumable, parallel driver).
"""
