"""``nli-check serve``: the editor's web app and a JSON API over one loaded checker.

Routes:
    GET  /               the form: paste or upload an article and its sources
    POST /check          the form's target: the same HTML report as ``--format html``
    POST /api/check      JSON in, the report's JSON (schema 1.1, as the CLI's) out
    POST /api/feedback   an editor's right label for one verdict, stored in SQLite
    GET  /healthz        liveness and queue state

Limits (:class:`~nli_check.config.ServeSettings`): the request body is capped (a declared
Content-Length over the cap is refused before a byte is read, a chunked body as soon as
the count passes it: 413); the article and its sources, fetched ones included, may come
to at most ``max_words`` words (400, counted before the check waits for the worker);
checks run one at a time on one worker thread with at most ``queue`` waiting (beyond that
503 with Retry-After, so a burst queues instead of exhausting memory); URL sources are
fetched on ``fetch_workers`` threads of their own, with their own queue. One deadline,
``timeout_s`` from the request's arrival, holds for fetching and checking together: then
504, and the request's work is told to stop (a fetch ends at the deadline, a check before
its next model step). The models load once, at start-up. No route reads a file named by the
request. Every error, expected or not, is one line with the security headers.

Sources may be URLs (``source_urls``, or the article's own links with
``sources_from_links``): fetching them is a request this server makes for a remote user,
so loopback, private, link-local and metadata addresses are refused (the host is resolved
first and the connection goes to the checked address) unless the operator started the
server with ``--allow-private-urls``; fetches have the server's time and size limits and
use no cache shared between users.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from nli_check.config import DEFAULT_BACKEND, DEFAULT_MODES, DEFAULT_PRECISION, ServeSettings
from nli_check.errors import Cancelled, InputError
from nli_check.inputs import decode
from nli_check.labels import Verdict
from nli_check.pipeline.cite import Citations
from nli_check.pipeline.documents import Document, check_documents, cited_sources, fetch_document
from nli_check.pipeline.segment import WordBudget
from nli_check.render.html import assets, build_view, environment
from nli_check.serve.feedback import CheckedReport, FeedbackStore, RecentReports
from nli_check.sources.cache import Fetcher
from nli_check.sources.fetch import FetchLimits

logger = logging.getLogger("nli_check.serve.app")

API_PREFIXES = ("/api/", "/healthz")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY"}


class ServerBusy(Exception):
    """Every worker and queue place is taken."""


class CheckTimeout(Exception):
    """A check did not finish within the time limit."""


class WorkQueue:
    """``workers`` threads and at most ``queue`` waiting jobs, each job given until a
    deadline. Checks run on one worker (torch already spreads one check over every core);
    fetches on a few of their own, so that a slow source never holds a check, feedback
    or the health probe.

    A place is taken before a job is queued and given back only when the job has
    finished (or was cancelled before it started): a request that timed out while its
    job still runs keeps its place, so the jobs in memory never exceed ``workers + queue``
    whatever the clients do. A job that takes a ``cancel`` event is told to stop when its
    request times out, and ends at its next step.
    """

    def __init__(self, *, queue: int, timeout_s: float, workers: int = 1, name: str = "nli-check-worker") -> None:
        self.capacity = queue + workers
        self.timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._taken = 0
        self._lock = threading.Lock()

    @property
    def taken(self) -> int:
        return self._taken

    def _release(self, _future) -> None:
        with self._lock:
            self._taken -= 1

    async def run(self, function, /, *args: Any, deadline: float | None = None, cancellable: bool = False,
                  **kwargs: Any):
        """``function(*args, **kwargs)`` on a worker, awaited until ``deadline`` (a
        ``time.monotonic()`` instant; default: ``timeout_s`` from now). ``cancellable``:
        the function takes ``cancel``, a :class:`threading.Event` set when the wait ends
        without a result."""
        with self._lock:
            if self._taken >= self.capacity:
                raise ServerBusy
            self._taken += 1
        cancel = threading.Event()
        if cancellable:
            kwargs["cancel"] = cancel
        try:
            future = self._executor.submit(function, *args, **kwargs)
        except RuntimeError:  # shutting down
            self._release(None)
            raise ServerBusy from None
        future.add_done_callback(self._release)
        left = (deadline - time.monotonic()) if deadline is not None else self.timeout_s
        try:
            # Cancelling the wrapper cancels a job that has not started yet.
            return await asyncio.wait_for(asyncio.wrap_future(future), max(left, 0.0))
        except TimeoutError:
            cancel.set()
            raise CheckTimeout from None
        except asyncio.CancelledError:  # the client went away
            cancel.set()
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class BodyLimit:
    """ASGI middleware: refuse a request body over ``max_bytes`` with 413 and a message
    that names the limit. A declared Content-Length is judged before the app runs (the
    body is never read); a chunked body is counted as it streams in."""

    def __init__(self, app, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def message(self) -> str:
        return (f"request body is over the {self.max_bytes / 1e6:g} MB limit of this server "
                f"(send shorter texts, or start it with a larger --max-body-mb)")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = _error_response(scope["path"], 413, self.message(), headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # HTTPException passes through FastAPI's body parsing to its handler.
                    raise HTTPException(413, self.message(), headers={"Connection": "close"})
            return message

        await self.app(scope, counted_receive, send)


def _wants_json(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def _error_page(message: str, status: int) -> HTMLResponse:
    html = environment().get_template("index.html").render(
        view=None, error=message, form=_FormState(), limits=None, assets=assets(), csp=assets().csp(served=True),
        feedback=None)
    return _html(html, status)


def _error_response(path: str, status: int, message: str, headers: dict | None = None):
    if _wants_json(path):
        return JSONResponse({"detail": message}, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
    response = _error_page(message, status)
    response.headers.update(headers or {})
    return response


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status,
                        headers={**SECURITY_HEADERS,
                                 # frame-ancestors works only as a header, not in the page's meta tag
                                 "Content-Security-Policy": assets().csp(served=True) + "; frame-ancestors 'none'"})


@dataclass
class _FormState:
    """What the form shows again: the texts the editor gave."""

    article: str = ""
    sources: tuple[str, ...] = ("",)
    urls: tuple[str, ...] = ()
    sources_from_links: bool = False


class CheckRequest(BaseModel):
    """``POST /api/check``: the arguments of :meth:`nli_check.Checker.check`."""

    model_config = ConfigDict(extra="forbid")

    article: str = Field(min_length=1, description="the article text")
    sources: list[str] = Field(default_factory=list, description="the cited sources' texts")
    source_names: list[str] | None = Field(default=None, description="names shown in the evidence")
    article_name: str = Field(default="article", max_length=200)
    article_format: Literal["auto", "text", "markdown", "html"] = "auto"
    source_formats: list[Literal["auto", "text", "markdown", "html"]] | None = None
    source_urls: list[str] = Field(default_factory=list, description="sources to fetch (http, https), named by URL")
    sources_from_links: bool = Field(default=False, description="also fetch the sources the article links to, "
                                                                "and check each claim against those it cites")

    @model_validator(mode="after")
    def some_source(self) -> CheckRequest:
        if not (self.sources or self.source_urls or self.sources_from_links):
            raise ValueError("no sources: give sources (texts), source_urls, or sources_from_links")
        return self


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_id: str = Field(min_length=1, max_length=64)
    claim_index: int = Field(ge=0)
    label: Verdict
    comment: str = Field(default="", max_length=1000)


def create_app(*, settings: ServeSettings | None = None, checker=None, model: str | None = None,
               embedding_model: str = "minilm", device: str | None = None,
               precision: str = DEFAULT_PRECISION, backend: str = DEFAULT_BACKEND,
               mode: str = DEFAULT_MODES["serve"]) -> FastAPI:
    """The web app. Pass a loaded ``checker`` to share one, or let start-up load it from
    ``mode``/``model``/``embedding_model`` (once, before the first request is accepted)."""
    settings = settings or ServeSettings()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if checker is None:
            from nli_check.pipeline.checker import Checker

            state["checker"] = await asyncio.to_thread(Checker, model=model, embedding_model=embedding_model,
                                                       device=device, precision=precision, backend=backend,
                                                       mode=mode)
        else:
            state["checker"] = checker
        state["queue"] = WorkQueue(queue=settings.queue, timeout_s=settings.timeout_s)
        state["fetches"] = WorkQueue(queue=settings.fetch_queue, timeout_s=settings.timeout_s,
                                     workers=settings.fetch_workers, name="nli-check-fetch")
        state["recent"] = RecentReports(settings.recent_reports_bytes)
        state["feedback"] = FeedbackStore(settings.feedback_db)
        logger.info("nli-check: model %s loaded; feedback goes to %s", state["checker"].model_name,
                    settings.feedback_db)
        try:
            yield
        finally:
            state["queue"].close()
            state["fetches"].close()

    app = FastAPI(title="nli-check", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        return _error_response(request.url.path, error.status_code, str(error.detail), headers=error.headers)

    @app.exception_handler(ServerBusy)
    async def busy(request: Request, _error: ServerBusy):
        message = (f"the server is busy: {state['queue'].capacity} checks are running or waiting; "
                   f"try again in {settings.retry_after_s} s")
        return _error_response(request.url.path, 503, message, headers={"Retry-After": str(settings.retry_after_s)})

    @app.exception_handler(CheckTimeout)
    async def too_slow(request: Request, _error: CheckTimeout):
        message = (f"the check did not finish within the {settings.timeout_s:g} s limit "
                   f"(the server is busy or the texts are long); try again with shorter texts")
        return _error_response(request.url.path, 504, message)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, error: InputError):
        return _error_response(request.url.path, 400, str(error))

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, _error: RecursionError):
        return _error_response(request.url.path, 400, "the request is nested too deeply to be read")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        # Still one line and the security headers; the traceback goes to the server's log.
        logger.exception("nli-check: %s %s failed", request.method, request.url.path)
        return _error_response(request.url.path, 500, f"internal error ({type(error).__name__}); the server's "
                                                      f"log has the details")

    def limits() -> dict:
        return {"max_sources": settings.max_sources, "max_mb": f"{settings.max_body_bytes / 1e6:g}"}

    def page(*, view=None, error: str | None = None, form: _FormState | None = None, report_id: str | None = None,
             status: int = 200) -> HTMLResponse:
        html = environment().get_template("index.html").render(
            view=view, error=error, form=form or _FormState(), limits=limits(), assets=assets(),
            csp=assets().csp(served=True), feedback={"report_id": report_id} if report_id else None)
        return _html(html, status)

    fetcher = Fetcher(limits=FetchLimits(timeout_s=settings.fetch_timeout_s, max_bytes=settings.fetch_max_bytes,
                                         allow_private=settings.allow_private_urls))

    def fetch_sources(article: Document, texts: list[Document], urls: list[str], from_links: bool,
                      deadline: float, cancel: threading.Event) -> tuple[list[Document], Citations | None, list[str]]:
        """The pasted sources and the fetched ones (URLs, the article's links), counted
        against the word budget as they come; blocking, every fetch ending by ``deadline``."""
        budget = WordBudget(settings.max_words)
        budget.add(article.text, fmt=article.format, name=article.name)
        if from_links:
            return cited_sources(article, urls, base=None, fetcher=fetcher, documents=texts,
                                 max_sources=settings.max_sources, budget=budget, deadline=deadline)
        if len(texts) + len(urls) > settings.max_sources:
            raise InputError(f"{len(texts) + len(urls)} sources: at most {settings.max_sources} per check")
        for text in texts:
            budget.add(text.text, fmt=text.format, name=text.name)
        fetched = []
        for url in dict.fromkeys(urls):
            if cancel.is_set():
                raise Cancelled("the request ended")
            document = fetch_document(url, fetcher=fetcher, deadline=deadline)
            budget.add(document.text, fmt=document.format, name=document.name)
            fetched.append(document)
        return [*texts, *fetched], None, []

    async def gather_sources(article: Document, texts: list[Document], urls: list[str], from_links: bool,
                             deadline: float):
        if not urls and not from_links:
            budget = WordBudget(settings.max_words)  # counted here, before the check waits for the worker
            for document in (article, *texts):
                budget.add(document.text, fmt=document.format, name=document.name)
            return texts, None, []
        return await state["fetches"].run(fetch_sources, article, texts, urls, from_links, deadline,
                                          deadline=deadline, cancellable=True)

    async def run_check(article: Document, sources: list[Document], citations: Citations | None = None,
                        warnings: list[str] | None = None, *, deadline: float):
        if len(sources) > settings.max_sources:
            raise InputError(f"{len(sources)} sources: at most {settings.max_sources} per check")
        report = await state["queue"].run(check_documents, state["checker"], article, sources, citations=citations,
                                          deadline=deadline, cancellable=True)
        report.warnings[:0] = warnings or []
        report_id = uuid.uuid4().hex
        state["recent"].put(report_id, CheckedReport(
            article_name=article.name, claims=[c.text for c in report.claims], labels=[c.label for c in report.claims],
            sources=[s.text for s in sources], source_names=[s.name for s in sources], model=report.model))
        return report, report_id

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return page()

    @app.post("/check", response_class=HTMLResponse)
    async def check_form(request: Request):
        # A text field may be as large as the whole body cap (Starlette's default is 1 MB).
        form = await request.form(max_files=settings.max_sources + 1, max_fields=2 * settings.max_sources + 10,
                                  max_part_size=settings.max_body_bytes)
        try:
            article, article_name = await _field_or_upload(form.get("article"), form.get("article_file"), "article")
            pasted, uploads = form.getlist("source"), form.getlist("source_file")
            urls = [url.strip() for url in form.getlist("source_url") if isinstance(url, str) and url.strip()]
            from_links = form.get("sources_from_links") == "1"
            sources, names = [], []
            for number in range(max(len(pasted), len(uploads))):
                text, name = await _field_or_upload(pasted[number] if number < len(pasted) else None,
                                                    uploads[number] if number < len(uploads) else None,
                                                    f"source {number + 1}")
                if text is not None:
                    sources.append(text)
                    names.append(name)
        finally:
            await form.close()
        boxes = max(len(sources), len(urls), 1)  # one box per pasted source or address
        shown = _FormState(article=article or "", sources=tuple(sources) + ("",) * (boxes - len(sources)),
                           urls=tuple(urls), sources_from_links=from_links)
        if article is None:
            return page(error="the article is empty: paste it or upload a file", form=shown, status=400)
        if not sources and not urls and not from_links:
            return page(error="no source given: paste, upload or link at least one source", form=shown, status=400)
        try:
            deadline = time.monotonic() + settings.timeout_s  # one limit for fetching and checking
            article_document = Document.from_text(article, name=article_name, path=article_name)
            documents, citations, warnings = await gather_sources(
                article_document, [Document.from_text(text, name=unique, path=name)
                                   for text, name, unique in zip(sources, names, _unique(names))], urls, from_links,
                deadline)
            report, report_id = await run_check(article_document, documents, citations, warnings, deadline=deadline)
        except InputError as error:
            return page(error=str(error), form=shown, status=400)
        view = build_view(report, article=article, title=f"nli-check: {article_name}")
        return page(view=view, form=shown, report_id=report_id)

    @app.post("/api/check")
    async def check_api(body: CheckRequest):
        names = body.source_names or [f"source {i + 1}" for i in range(len(body.sources))]
        formats = body.source_formats or ["auto"] * len(body.sources)
        if len(names) != len(body.sources) or len(formats) != len(body.sources):
            raise InputError(f"got {len(body.sources)} sources but {len(names)} source_names "
                             f"and {len(formats)} source_formats")
        deadline = time.monotonic() + settings.timeout_s  # one limit for fetching and checking
        article = Document.from_text(body.article, name=body.article_name, fmt=body.article_format)
        documents, citations, warnings = await gather_sources(
            article, [Document.from_text(text, name=name, fmt=fmt) for text, name, fmt in zip(body.sources, names, formats)],
            body.source_urls, body.sources_from_links, deadline)
        report, report_id = await run_check(article, documents, citations, warnings, deadline=deadline)
        return JSONResponse(report.to_dict(), headers={**SECURITY_HEADERS, "X-Report-Id": report_id})

    @app.post("/api/feedback", status_code=201)
    async def feedback(body: FeedbackRequest):
        checked = state["recent"].get(body.report_id)
        if checked is None:
            raise HTTPException(410, "this report is no longer held by the server (it restarted or the report "
                                     "is too old); run the check again to give feedback")
        if body.claim_index >= len(checked.claims):
            raise HTTPException(422, f"claim_index {body.claim_index} is out of range: the report has "
                                     f"{len(checked.claims)} claims")
        row = await asyncio.to_thread(state["feedback"].record, report_id=body.report_id,
                                      claim_index=body.claim_index, report=checked, label=body.label,
                                      comment=body.comment)
        return JSONResponse({"id": row, "claim": checked.claims[body.claim_index],
                             "predicted": checked.labels[body.claim_index], "label": body.label},
                            status_code=201, headers=SECURITY_HEADERS)

    @app.get("/healthz")
    async def healthz():
        queue, fetches = state.get("queue"), state.get("fetches")
        return JSONResponse({"status": "ok", "model": state["checker"].model_name,
                             "in_progress": queue.taken if queue else 0,
                             "capacity": queue.capacity if queue else 0,
                             "fetching": fetches.taken if fetches else 0}, headers=SECURITY_HEADERS)

    return app


async def _field_or_upload(text, upload, label: str) -> tuple[str | None, str]:
    """The uploaded file if one was chosen, else the pasted text; None when both are
    empty. An upload's file name is only a label: nothing is ever opened by name."""
    if isinstance(upload, UploadFile) and upload.filename:
        name = PurePath(upload.filename.replace("\\", "/")).name[:200] or label
        return decode(await upload.read(), name), name
    if isinstance(text, str) and text.strip():
        return text.replace("\r\n", "\n"), label
    return None, label


def _unique(names: list[str]) -> list[str]:
    """Two uploads called source.txt stay distinguishable in the evidence."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return result

