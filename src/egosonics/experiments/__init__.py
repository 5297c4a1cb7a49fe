"""Experiments of the paper beyond generation itself.

The video summarization experiment (paper Sec. F, Fig. 3; ``egosonics experiment summarize``): does audio, ground
truth or generated, help predict a clip's one-line narration from its video?

    experiments.embeddings   narration → text embedding (all-MiniLM-L6-v2 offline, or CLIP's text encoder);
                             waveform → audio embedding (weight-free log-mel statistics, or EnCodec's encoder)
    experiments.clips        prepared shards → clips: E_V, narration, group, ground-truth and generated audio
    experiments.model        SummarizationCNN: 1-D convolutions over time on E_V, the audio embedding joined by
                             convolution → predicted text embedding c'_t
    experiments.summarize    train the CNN with audio off / ground truth / generated over seeds; held-out cosine,
                             MSE and narration retrieval recall@1/5 with 95 % confidence intervals; Markdown + JSON
"""
