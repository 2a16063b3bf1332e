"""apply_async(link=, link_error=): the callback runs with the result; the errback (a task
taking one argument) runs with the failed task's id.
Celery: docs.celeryq.dev userguide/calling.html#linking-callbacks-errbacks."""
# needs: worker
# timeout: 90
import os
import time

import redis
from celery import Celery

app = Celery("canvas_link", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])
NOTES = "canvas_link:notes"


@app.task
def add(x, y):
    return x + y


@app.task
def boom(x):
    raise ValueError(f"boom {x}")


@app.task
def note(value):
    redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"]).rpush(NOTES, f"note:{value}")


def main():
    r = redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"], decode_responses=True)
    r.delete(NOTES)
    print(add.apply_async((2, 2), link=note.s(), link_error=note.s()).get(timeout=30))
    bad = boom.apply_async((1,), link=note.s(), link_error=note.s())
    try:
        bad.get(timeout=30)
    except ValueError as exc:
        print("raised", exc)
    deadline = time.monotonic() + 30
    while r.llen(NOTES) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    notes = r.lrange(NOTES, 0, -1)
    print(sorted(n.replace(bad.id, "<failed id>") for n in notes))
    r.delete(NOTES)


if __name__ == "__main__":
    main()
# expect:
# 4
# raised boom 1
# ['note:4', 'note:<failed id>']
