"""Catalogue routes: products, price books, bundles, exchange rates, pipelines."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http import bodies
from adapters.http.answers import ReadAnswer
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.reading import reads
from adapters.http.views import pipeline_view, reference_view
from commands import reference_data as ref_cmd
from commands.authorization import ensure_visible
from domain.aggregate import AggregateState
from domain.bundle import Bundle
from domain.errors import NotFound
from domain.exchange_rates import ExchangeRates
from domain.ids import EXCHANGE_RATES_ID, pipeline_id_for
from domain.pipeline import Pipeline
from domain.price_book import PriceBook
from domain.product import Product

router = APIRouter(tags=["catalogue"])
Headers = Depends(command_headers)
S = TypeVar("S", bound=AggregateState)


def load(request: Request, cls: type[S], aggregate_id: UUID) -> S:
    """The ``cls`` record the request names, if the caller may see it: otherwise, as when
    there is none, NotFound (the one place the API's reads of a record are authorized)."""
    services: Services = request.app.state.services
    state = services.store.load(aggregate_id)
    if not isinstance(state, cls) or state.deleted:
        raise NotFound(f"there is no {cls.kind.replace('_', ' ')} with id {aggregate_id}.")
    ensure_visible(request.state.principal, state, services.store.load)
    return state


def pipeline_id(name_or_id: str) -> UUID:
    try:
        return UUID(name_or_id)
    except ValueError:
        return pipeline_id_for(name_or_id)


@router.post("/products", status_code=201)
def create_product(
    request: Request, body: bodies.ProductBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/products/{product_id}", dependencies=[reads("a product")])
def get_product(request: Request, product_id: UUID) -> ReadAnswer:
    return reference_view(load(request, Product, product_id))


@router.post("/products/{product_id}/deactivate")
def deactivate_product(
    request: Request, product_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, ref_cmd.DeactivateProduct(product_id=product_id), target=product_id)


@router.post("/products/{product_id}/reactivate")
def reactivate_product(
    request: Request, product_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, ref_cmd.ReactivateProduct(product_id=product_id), target=product_id)


@router.post("/price-books", status_code=201)
def create_price_book(
    request: Request, body: bodies.PriceBookBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/price-books/{price_book_id}", dependencies=[reads("a price book")])
def get_price_book(request: Request, price_book_id: UUID) -> ReadAnswer:
    return reference_view(load(request, PriceBook, price_book_id))


@router.post("/price-books/{price_book_id}/prices")
def set_price(
    request: Request, price_book_id: UUID, body: bodies.PriceBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command(price_book_id), target=price_book_id)


@router.post("/price-books/{price_book_id}/deactivate")
def deactivate_price_book(
    request: Request, price_book_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(
        request, h, ref_cmd.DeactivatePriceBook(price_book_id=price_book_id), target=price_book_id
    )


@router.post("/bundles", status_code=201)
def create_bundle(
    request: Request, body: bodies.BundleBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/bundles/{bundle_id}", dependencies=[reads("a bundle")])
def get_bundle(request: Request, bundle_id: UUID) -> ReadAnswer:
    return reference_view(load(request, Bundle, bundle_id))


@router.post("/exchange-rates")
def set_exchange_rate(
    request: Request, body: bodies.ExchangeRateBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/exchange-rates", dependencies=[reads("the exchange rates")])
def get_exchange_rates(request: Request) -> ReadAnswer:
    return reference_view(load(request, ExchangeRates, EXCHANGE_RATES_ID))


@router.post("/pipelines", status_code=201)
def create_pipeline(
    request: Request, body: bodies.PipelineBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/pipelines/{pipeline}", dependencies=[reads("a pipeline")])
def get_pipeline(request: Request, pipeline: str) -> ReadAnswer:
    """A pipeline by id or by name (the default one is ``sales``)."""
    return pipeline_view(load(request, Pipeline, pipeline_id(pipeline)))


@router.post("/pipelines/{pipeline}/stages/{stage}")
def change_stage(
    request: Request,
    pipeline: str,
    stage: str,
    body: bodies.StageChangeBody,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    target = pipeline_id(pipeline)
    return run(request, h, body.to_command(target, stage), target=target)
