"""Text encoders that give the frozen UNet's cross-attention context c_t from a clip's narration.

The base UNet is text-conditioned (Stable Diffusion's is; the tiny preset's is trained so); the video→text MLP learns
to predict this context from E_V (paper Sec. G). Two encoders:

* ``HashTextEncoder``: weight-free and deterministic. Each lower-cased word is hashed to a fixed random unit vector
  (seeded by the word), the bag of words is averaged and normalised, and the result is repeated for every token.
  It stands in for a pretrained text encoder in the ``tiny`` preset, where no weights can be downloaded.
* ``load_sd_text_encoder``: Stable Diffusion 2.1's own OpenCLIP text encoder and tokenizer from a local folder.
An empty narration gives an all-zero context: the same "no condition" the classifier-free guidance uses.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import torch

from egosonics.errors import EgoSonicsError


class HashTextEncoder:
    """Bag of hashed words → context [B, num_tokens, dim] (unit-length rows; zeros for an empty text)."""

    def __init__(self, dim: int, num_tokens: int) -> None:
        self.dim, self.num_tokens = dim, num_tokens
        self._cache: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        if word not in self._cache:
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
            vec = np.random.default_rng(seed).standard_normal(self.dim)
            self._cache[word] = vec / np.linalg.norm(vec)
        return self._cache[word]

    def __call__(self, texts: list[str]) -> torch.Tensor:
        rows = []
        for text in texts:
            words = re.findall(r"[a-z]+", text.lower())
            if not words:
                rows.append(np.zeros(self.dim))
                continue
            vec = np.mean([self._word(w) for w in words], axis=0)
            rows.append(vec / max(np.linalg.norm(vec), 1e-8))
        out = torch.tensor(np.stack(rows), dtype=torch.float32)  # [B, dim]
        return out[:, None, :].expand(-1, self.num_tokens, -1).contiguous()


class SDTextEncoder:
    """Stable Diffusion 2.1's text encoder: narration → last hidden states [B, 77, 1024]."""

    def __init__(self, sd_dir: str | os.PathLike[str], device: torch.device | str = "cpu") -> None:
        from transformers import CLIPTextModel, CLIPTokenizer

        folder = Path(sd_dir)
        for part in ("text_encoder", "tokenizer"):
            if not (folder / part).is_dir():
                raise EgoSonicsError(f"{folder / part}: missing (a local Stable Diffusion 2.1-base folder has "
                                     "text_encoder/ and tokenizer/)")
        self.tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer", local_files_only=True)
        self.model = CLIPTextModel.from_pretrained(folder / "text_encoder", local_files_only=True).to(device).eval()
        self.model.requires_grad_(False)

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(texts, padding="max_length", max_length=self.tokenizer.model_max_length,
                                truncation=True, return_tensors="pt").input_ids.to(self.model.device)
        hidden = self.model(tokens).last_hidden_state
        empty = torch.tensor([not t.strip() for t in texts], device=hidden.device)
        return torch.where(empty[:, None, None], torch.zeros_like(hidden), hidden).float().cpu()
