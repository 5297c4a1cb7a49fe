"""Evaluation tests run torch on one thread.

The metric tensors are small (one clip's STFTs), so a second intra-op thread gains nothing on an idle machine; on a
busy one, torch's worker threads spin-wait for descheduled siblings: the suite test took 10.4 s with 2 threads against
0.36 s with 1 on this 2-core machine under load. The thread count is restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
