"""Signatures of a task by its name, as Celery's canvas guide spells them:
signature('tasks.add', args=...) and app.signature(name, ...).
Celery: docs.celeryq.dev userguide/canvas.html#signatures."""
# needs: worker
# timeout: 60
import os

from celery import Celery, signature

app = Celery("signature_by_name", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


def main():
    print(signature("signature_by_name.add", args=(2, 2)).delay().get(timeout=30))
    print(app.signature("signature_by_name.add", args=(3, 3)).delay().get(timeout=30))
    print((signature("signature_by_name.add", args=(1, 1))
           | signature("signature_by_name.add", args=(10,)))().get(timeout=30))


if __name__ == "__main__":
    main()
# expect:
# 4
# 6
# 12
