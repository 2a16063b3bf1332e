"""AsyncResult by id: Celery's state names, get(timeout=, propagate=), ready(), successful(),
failed(), the result / info properties, traceback, date_done, an unknown id reading
PENDING, a get() timeout raising celery.exceptions.TimeoutError, app.AsyncResult, forget().
Celery: docs.celeryq.dev/en/stable/reference/celery.result.html,
userguide/tasks.html#built-in-states."""
# needs: worker
# timeout: 90
import os

from celery import Celery
from celery.exceptions import TimeoutError
from celery.result import AsyncResult

app = Celery("async_result_by_id", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


@app.task
def fail(message):
    raise ValueError(message)


def main():
    task_id = add.delay(2, 3).id
    result = AsyncResult(task_id, app=app)
    print(result.get(timeout=30))
    print(result.state, result.status)
    print(result.ready(), result.successful(), result.failed())
    print(result.result, result.info, result.traceback)
    print(result.date_done is not None, result.id == task_id)

    bad = AsyncResult(fail.delay("nope").id, app=app)
    error = bad.get(timeout=30, propagate=False)
    print(type(error).__name__, error)
    print(bad.state, bad.ready(), bad.successful(), bad.failed())
    print(type(bad.result).__name__, type(bad.info).__name__)
    print("ValueError: nope" in bad.traceback)
    try:
        bad.get(timeout=30)
    except ValueError as exc:
        print("raised", exc)

    unknown = AsyncResult("no-such-task-id", app=app)
    print(unknown.state, unknown.ready(), unknown.result)
    try:
        unknown.get(timeout=0.5)
    except TimeoutError:
        print("timed out")

    again = app.AsyncResult(task_id)
    print(again.get(timeout=30), again.state)
    again.forget()
    print(AsyncResult(task_id, app=app).result)


if __name__ == "__main__":
    main()
# expect:
# 5
# SUCCESS SUCCESS
# True True False
# 5 5 None
# True True
# ValueError nope
# FAILURE True False True
# ValueError ValueError
# True
# raised nope
# PENDING False None
# timed out
# 5 SUCCESS
# None
