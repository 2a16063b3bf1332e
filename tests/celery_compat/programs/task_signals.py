"""Task signals on the worker, with the task as sender: task_prerun, task_postrun (with the
state), task_success (with the result), task_failure (with the exception), and a receiver
connected with sender=add only. Celery: docs.celeryq.dev userguide/signals.html. The
receivers run in the worker; they append lines to a Redis list the program reads."""
# needs: worker
# timeout: 60
import os
import time

import redis
from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun, task_success

app = Celery("task_signals", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])
LINES = "compat:task-signals"


def note(text):
    redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"]).rpush(LINES, text)


@app.task
def add(x, y):
    return x + y


@app.task
def fail(x):
    raise ValueError(f"bad {x}")


@task_prerun.connect
def on_prerun(sender=None, task_id=None, task=None, args=None, **kwargs):
    note(f"prerun {sender.name} {list(args)}")


@task_postrun.connect
def on_postrun(sender=None, task_id=None, state=None, **kwargs):
    note(f"postrun {sender.name} {state}")


@task_success.connect
def on_success(sender=None, result=None, **kwargs):
    note(f"success {sender.name} {result}")


@task_failure.connect
def on_failure(sender=None, exception=None, traceback=None, **kwargs):
    note(f"failure {sender.name} {type(exception).__name__} {traceback is not None}")


@task_success.connect(sender=add)
def on_add_success(sender=None, **kwargs):
    note(f"add only {sender.name}")


def main():
    print(add.delay(2, 3).get(timeout=30))
    try:
        fail.delay(7).get(timeout=30)
    except Exception as exc:
        print(type(exc).__name__)
    client = redis.Redis.from_url(os.environ["COMPAT_BROKER_URL"], decode_responses=True)
    deadline = time.monotonic() + 20
    while client.llen(LINES) < 7 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # nothing more comes
    for line in sorted(client.lrange(LINES, 0, -1)):
        print(line)


if __name__ == "__main__":
    main()
# expect:
# 5
# ValueError
# add only task_signals.add
# failure task_signals.fail ValueError True
# postrun task_signals.add SUCCESS
# postrun task_signals.fail FAILURE
# prerun task_signals.add [2, 3]
# prerun task_signals.fail [7]
# success task_signals.add 5
