"""ignore_result=True stores no result, but the value still goes to a chain's next step and
to a link callback (the worker hands it on). Celery: docs.celeryq.dev
userguide/tasks.html#Task.ignore_result and userguide/canvas.html#chains."""
# needs: worker
# timeout: 60
import os
import time

import redis
from celery import Celery, chain

app = Celery("ignore_result_chain", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])
NOTES = "ignore_result_chain:notes"


@app.task(ignore_result=True)
def fire_and_forget(x):
    return x * 2


@app.task
def add(x, y):
    return x + y


@app.task
def note(value):
    redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"]).rpush(NOTES, f"note:{value}")


def main():
    r = redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"], decode_responses=True)
    r.delete(NOTES)
    print(chain(fire_and_forget.s(5), add.s(1))().get(timeout=30))
    fire_and_forget.apply_async((7,), link=note.s())
    deadline = time.monotonic() + 30
    while r.llen(NOTES) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    print(r.lrange(NOTES, 0, -1))
    r.delete(NOTES)


if __name__ == "__main__":
    main()
# expect:
# 11
# ['note:14']
