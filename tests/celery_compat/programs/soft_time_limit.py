"""Time limits: soft_time_limit raises SoftTimeLimitExceeded inside the task, whose
clean-up then runs; as a decorator option and as an apply_async option.
Celery: docs.celeryq.dev userguide/workers.html#time-limits,
userguide/tasks.html#list-of-options."""
# needs: worker
# timeout: 60
# pool: prefork
import os
import time

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

app = Celery("soft_time_limit", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task(soft_time_limit=1)
def slow():
    try:
        time.sleep(10)
    except SoftTimeLimitExceeded:
        return "cleaned up"
    return "finished"


@app.task
def sleeper(seconds):
    try:
        time.sleep(seconds)
    except SoftTimeLimitExceeded:
        return "cleaned up"
    return "finished"


def main():
    print(slow.delay().get(timeout=30))
    print(sleeper.apply_async((10,), soft_time_limit=1).get(timeout=30))
    print(sleeper.delay(0.1).get(timeout=30))


if __name__ == "__main__":
    main()
# expect:
# cleaned up
# cleaned up
# finished
