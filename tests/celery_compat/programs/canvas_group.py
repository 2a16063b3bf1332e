"""group: tasks in parallel, a GroupResult with get/join/completed_count/ready/successful/
failed, saved and restored by id. Celery: docs.celeryq.dev userguide/canvas.html#groups."""
# needs: worker
# timeout: 90
import os

from celery import Celery, group
from celery.result import GroupResult

app = Celery("canvas_group", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


@app.task
def boom(x):
    raise ValueError(f"boom {x}")


def main():
    res = group(add.s(i, i) for i in range(5))()
    print(type(res).__name__, len(res))
    print(res.get(timeout=30))
    print(res.ready(), res.successful(), res.failed(), res.completed_count())
    res.save()
    again = GroupResult.restore(res.id)
    print(again.join(timeout=30))
    mixed = group(add.s(1, 1), boom.s(2), add.s(3, 3))()
    values = mixed.join(timeout=30, propagate=False)
    print([type(v).__name__ for v in values])
    print(mixed.successful(), mixed.failed(), mixed.completed_count())
    try:
        mixed.get(timeout=30)
    except ValueError as exc:
        print("raised", exc)


if __name__ == "__main__":
    main()
# expect:
# GroupResult 5
# [0, 2, 4, 6, 8]
# True True False 5
# [0, 2, 4, 6, 8]
# ['int', 'ValueError', 'int']
# False True 2
# raised boom 2
