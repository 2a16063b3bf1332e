"""What get() raises for a task that did not succeed, as Celery's exception classes: a
revoked task, TaskRevokedError; a task that did not catch its soft time limit,
SoftTimeLimitExceeded. Celery: docs.celeryq.dev reference/celery.result.html
(AsyncResult.get), userguide/workers.html#revoke-revoking-tasks and #time-limits."""
# needs: worker
# timeout: 90
# pool: prefork
import os
import time

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded, TaskRevokedError

app = Celery("failed_get", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


@app.task(soft_time_limit=1)
def slow():
    time.sleep(10)
    return "finished"


def main():
    later = add.apply_async((1, 2), countdown=2)
    later.revoke()
    try:
        later.get(timeout=30)
    except TaskRevokedError:
        print("caught TaskRevokedError")
    print(later.state)
    try:
        slow.delay().get(timeout=30)
    except SoftTimeLimitExceeded:
        print("caught SoftTimeLimitExceeded")


if __name__ == "__main__":
    main()
# expect:
# caught TaskRevokedError
# REVOKED
# caught SoftTimeLimitExceeded
