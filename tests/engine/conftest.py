"""Engine tests use one torch thread: the tensors are small (one thread is faster on them), the web worker runs
with one thread too, and results do not depend on other processes competing for the cores."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
