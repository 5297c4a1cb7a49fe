"""Procedural scenes whose sound events are known exactly (the benchmark issue grows this into ``egosonics synth``)."""
