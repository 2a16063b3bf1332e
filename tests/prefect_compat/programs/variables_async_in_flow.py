"""Variables read and written in an async flow: the async spellings (aset, aget), and the
plain ones awaited (in an async context they return coroutines, Prefect 3's async_dispatch).
Prefect: docs.prefect.io/v3/api-ref/python/prefect-variables."""
import asyncio

from prefect import flow
from prefect.variables import Variable


@flow
async def configured():
    await Variable.aset("region", "eu-west", overwrite=True)
    await Variable.set("zone", "b")
    return [await Variable.aget("region"), await Variable.get("zone")]


if __name__ == "__main__":
    print(asyncio.run(configured()))
# expect:
# ['eu-west', 'b']
