"""The HTTP ceiling: FastAPI on uvicorn, a POST that reads its body and answers 200, nothing
else. ingest-api is measured against this, with the same load generator in the same run."""

from fastapi import FastAPI, Request, Response

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/{path:path}")
async def accept(request: Request) -> Response:
    await request.body()
    return Response(b'{"ok":true}', media_type="application/json")
