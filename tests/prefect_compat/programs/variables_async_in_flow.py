"""Variables read and written in an async flow with the async spellings (aset, aget).
Prefect: docs.prefect.io/v3/api-ref/python/prefect-variables (Variable.aset, Variable.aget)."""
import asyncio

from prefect import flow
from prefect.variables import Variable


@flow
async def configured():
    await Variable.aset("region", "eu-west", overwrite=True)
    return await Variable.aget("region")


if __name__ == "__main__":
    print(asyncio.run(configured()))
# expect:
# eu-west
