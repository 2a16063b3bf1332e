"""chain: each result is the first argument of the next task; .si() ignores it; a failed
step fails the chain. Celery: docs.celeryq.dev userguide/canvas.html#chains."""
# needs: worker
# timeout: 90
import os

from celery import Celery, chain

app = Celery("canvas_chain", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


@app.task
def mul(x, y):
    return x * y


@app.task
def boom(x):
    raise ValueError(f"boom {x}")


def main():
    res = chain(add.s(2, 2), add.s(4), mul.s(10))()
    print(res.get(timeout=30))
    print(res.parent.get(timeout=30))
    print(res.parent.parent.get(timeout=30))
    print((add.s(1, 1) | add.si(5, 5) | add.s(1)).delay().get(timeout=30))
    print(chain(add.s(1), mul.s(3)).apply_async((4,)).get(timeout=30))
    print(add.signature((2, 3)).delay().get(timeout=30))
    bad = chain(add.s(1, 1), boom.s(), add.s(1))()
    try:
        bad.get(timeout=30)
    except Exception as exc:
        print(type(exc).__name__, exc)


if __name__ == "__main__":
    main()
# expect:
# 80
# 8
# 4
# 11
# 15
# 5
# ValueError boom 2
