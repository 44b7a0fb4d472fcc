"""CPU micro-benchmarks (pytest-benchmark).

The default test run passes ``--benchmark-disable``: each benchmark then runs
its function once, as a smoke test. Measure with::

    .venv/bin/python -m pytest tests/benchmarks --benchmark-enable -p no:cacheprovider

They run on one thread: on a small shared CPU, extra intra-op threads mostly
add scheduling noise.
"""
import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
