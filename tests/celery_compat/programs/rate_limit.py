"""rate_limit="2/s": at most two starts a second (Celery: per worker; tasks-core: across
all workers). Celery: docs.celeryq.dev userguide/tasks.html#Task.rate_limit."""
# needs: worker
# timeout: 60
import itertools
import os
import time

from celery import Celery

app = Celery("rate_limit", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task(rate_limit="2/s")
def started_at(i):
    return time.time()


def main():
    results = [started_at.delay(i) for i in range(4)]
    starts = sorted(r.get(timeout=30) for r in results)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    print(len(starts))
    print(all(gap >= 0.4 for gap in gaps))


if __name__ == "__main__":
    main()
# expect:
# 4
# True
