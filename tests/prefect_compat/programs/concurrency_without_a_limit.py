"""The concurrency context manager on a name that is not a limit: tasks proceed (with a
warning on stderr); strict=True refuses with ConcurrencySlotAcquisitionError.
Prefect: docs.prefect.io/v3/api-ref/python/prefect-concurrency-sync (`strict`: "whether to
raise an error if the concurrency limit does not exist"), prefect-concurrency-asyncio."""
from prefect import flow, task
from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency


@task
def guarded(x):
    with concurrency("not-created", occupy=1):
        return x * 2


@flow
def run_all():
    return [guarded(i) for i in range(3)]


if __name__ == "__main__":
    print(run_all())
    try:
        with concurrency("not-created", occupy=1, strict=True):
            print("not reached")
    except ConcurrencySlotAcquisitionError:
        print("ConcurrencySlotAcquisitionError")
# expect:
# [0, 2, 4]
# ConcurrencySlotAcquisitionError
