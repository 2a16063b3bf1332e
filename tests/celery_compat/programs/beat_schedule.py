"""beat_schedule: beat sends the named task on its schedule (a timedelta here), with the
entry's args and kwargs; the worker runs it.
Celery: docs.celeryq.dev userguide/periodic-tasks.html#entries."""
# needs: worker beat
# timeout: 90
import os
import time
from datetime import timedelta

import redis
from celery import Celery

app = Celery("beat_schedule", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])
app.conf.beat_schedule = {
    "add-every-second": {
        "task": "beat_schedule.add",
        "schedule": timedelta(seconds=1),
        "args": (2,),
        "kwargs": {"y": 3},
    },
}
SEEN = "compat:beat_schedule:seen"


@app.task
def add(x, y):
    redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"]).rpush(SEEN, x + y)
    return x + y


def main():
    client = redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"])
    client.delete(SEEN)
    deadline = time.monotonic() + 60
    while client.llen(SEEN) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    print([int(v) for v in client.lrange(SEEN, 0, 2)])
    client.delete(SEEN)


if __name__ == "__main__":
    main()
# expect:
# [5, 5, 5]
