from controllers.resources import Grant, Request, ResourcePool, request_of
from tuner.quantities import parse_cpu


def test_cpu_quantities() -> None:
    assert parse_cpu("500m") == 0.5
    assert parse_cpu(2) == 2.0


def test_limits_win_over_requests() -> None:
    container = {"resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "2", "nvidia.com/gpu": 1}}}
    assert request_of(container) == Request(cpu=2.0, gpus=1)
    assert request_of({}) == Request()


def test_pool_hands_out_gpus_and_cpu() -> None:
    pool = ResourcePool(cpus=4, gpu_ids=[0, 1])
    first = pool.try_acquire(Request(cpu=2, gpus=1))
    second = pool.try_acquire(Request(cpu=2, gpus=1))
    assert first == Grant(cpu=2, gpu_ids=(0,)) and second == Grant(cpu=2, gpu_ids=(1,))
    assert second.env() == {"CUDA_VISIBLE_DEVICES": "1"}
    assert pool.try_acquire(Request(cpu=0.5)) is None
    pool.release(first)
    assert pool.try_acquire(Request(gpus=1)) == Grant(cpu=0, gpu_ids=(0,))


def test_requests_that_never_fit() -> None:
    pool = ResourcePool(cpus=2, gpu_ids=[])
    assert "0 GPUs" in (pool.never_fits(Request(gpus=1)) or "")
    assert "3 CPUs" in (pool.never_fits(Request(cpu=3)) or "")
    assert pool.never_fits(Request(cpu=2)) is None
