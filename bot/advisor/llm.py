"""``LlmAdvisor``: ask a Cerebras-hosted model for a strategy, within hard limits.

The model gets a compact prompt and must answer in the JSON schema of ``prompt.py``
(``response_format=json_schema``). Its answer is parsed, then clamped by the guardrails: the
LLM chooses, never exceeds. On any failure the ``RuleAdvisor`` decides and the advice records
why (``fallback_reason``):

| reason           | cause                                   | retried                        |
|------------------|-----------------------------------------|--------------------------------|
| no_api_key       | no key configured                       | no                             |
| timeout          | no answer within ``timeout_s``          | no (the budget is spent)       |
| rate_limited     | HTTP 429                                | yes, if Retry-After ≤ max wait |
| server_error     | HTTP 5xx                                | yes                            |
| network_error    | connection refused or reset             | yes                            |
| auth_error       | HTTP 401/403                            | no                             |
| api_error        | any other HTTP error or error payload   | no                             |
| empty_answer     | no content                              | no                             |
| invalid_json     | prose or broken JSON                    | no                             |
| unknown_strategy | a strategy we do not have               | no                             |
| schema_violation | missing, extra or mistyped fields       | no                             |

At most ``max_retries`` retries, each after a capped backoff slept on the injected clock (the
SDK's own retries are switched off so every wait is ours). Successful LLM advice is memoised
for ``memo_ttl_s`` per bucketed situation, so an unchanged market costs no second call.
"""

from __future__ import annotations

from typing import Any, cast

from cerebras.cloud.sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncCerebras,
    AuthenticationError,
    CerebrasError,
    InternalServerError,
    PermissionDeniedError,
    RateLimitError,
)
from cerebras.cloud.sdk.types.chat.chat_completion import ChatCompletionResponse

from bot.advisor.guardrails import changed_fields, clamp
from bot.advisor.memo import DecisionMemo, situation_of
from bot.advisor.port import Advice, AdviceContext
from bot.advisor.prompt import RESPONSE_FORMAT, AnswerError, messages, parse_answer, prompt_hash
from bot.advisor.rules import RuleAdvisor
from bot.clock import Clock
from bot.domain.decisions import Limits

MAX_COMPLETION_TOKENS = 300


class _CallFailed(Exception):
    def __init__(self, kind: str, detail: str, *, retry: bool = False, wait_s: float = 0.0):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail, self.retry, self.wait_s = kind, detail, retry, wait_s


class LlmAdvisor:
    """Advice from an LLM, clamped by guardrails, with the rules as the fallback."""

    name = "llm"

    def __init__(
        self,
        api_key: str | None,
        model: str,
        base_url: str | None,
        *,
        limits: Limits,
        fallback: RuleAdvisor,
        clock: Clock,
        timeout_s: float = 5.0,
        max_retries: int = 1,
        memo_ttl_s: float = 60,
        backoff_s: float = 0.5,
        max_wait_s: float = 2.0,
    ) -> None:
        self._model = model
        self._limits = limits
        self._fallback = fallback
        self._clock = clock
        self._max_retries = max(0, max_retries)
        self._backoff_s = backoff_s
        self._max_wait_s = max_wait_s
        self._memo = DecisionMemo(clock, memo_ttl_s)
        self._client = (
            AsyncCerebras(
                api_key=api_key,
                base_url=base_url,
                timeout=timeout_s,
                max_retries=0,
                warm_tcp_connection=False,  # it would block the loop with a sync request
            )
            if api_key
            else None
        )

    @property
    def model(self) -> str:
        return self._model

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def advise(self, ctx: AdviceContext) -> Advice:
        key = situation_of(ctx)
        remembered = self._memo.get(key)
        if remembered is not None:
            return remembered
        if self._client is None:
            return self._fall_back(ctx, "no_api_key", "no Cerebras API key configured")
        chat = messages(ctx, self._limits)
        asked = prompt_hash(self._model, chat)
        started = self._clock.monotonic()
        raw: str | None = None
        try:
            raw = await self._ask(self._client, chat)
            proposed = parse_answer(raw)
        except (_CallFailed, AnswerError) as e:
            return self._fall_back(
                ctx, e.kind, e.detail, prompt=asked, raw=raw, latency_ms=self._since(started)
            )
        decision = clamp(proposed, self._limits)
        advice = Advice(
            decision=decision,
            advisor=self.name,
            model=self._model,
            latency_ms=self._since(started),
            prompt_hash=asked,
            raw_answer=raw,
            proposed=proposed,
            clamped=changed_fields(proposed, decision),
        )
        self._memo.put(key, advice)
        return advice

    async def _ask(self, client: AsyncCerebras, chat: list[dict[str, str]]) -> str | None:
        for attempt in range(self._max_retries + 1):
            try:
                return await self._call(client, chat)
            except _CallFailed as e:
                if not e.retry or attempt == self._max_retries or e.wait_s > self._max_wait_s:
                    raise
                wait_s = e.wait_s or min(self._backoff_s * 2**attempt, self._max_wait_s)
                await self._clock.sleep(wait_s)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, client: AsyncCerebras, chat: list[dict[str, str]]) -> str | None:
        try:
            completion = await client.chat.completions.create(
                model=self._model,
                messages=cast("list[Any]", chat),  # the SDK's TypedDicts, same shape
                response_format=cast("Any", RESPONSE_FORMAT),
                temperature=0,
                max_completion_tokens=MAX_COMPLETION_TOKENS,
            )
        except CerebrasError as e:
            raise _map_error(e) from e
        if not isinstance(completion, ChatCompletionResponse):
            raise _CallFailed("api_error", type(completion).__name__)
        if not completion.choices:
            return None
        return completion.choices[0].message.content

    def _fall_back(
        self,
        ctx: AdviceContext,
        reason: str,
        detail: str,
        *,
        prompt: str | None = None,
        raw: str | None = None,
        latency_ms: int = 0,
    ) -> Advice:
        return Advice(
            decision=self._fallback.decide(ctx),
            advisor=self._fallback.name,
            model=self._model,
            latency_ms=latency_ms,
            prompt_hash=prompt,
            raw_answer=raw,
            fallback=True,
            fallback_reason=reason,
            fallback_detail=detail[:300],
        )

    def _since(self, started: float) -> int:
        return round((self._clock.monotonic() - started) * 1000)


def _map_error(e: CerebrasError) -> _CallFailed:
    """Translate an SDK exception into a fallback reason and whether to retry."""
    if isinstance(e, APITimeoutError):
        return _CallFailed("timeout", str(e))
    if isinstance(e, APIConnectionError):
        return _CallFailed("network_error", str(e), retry=True)
    if isinstance(e, RateLimitError):
        return _CallFailed("rate_limited", str(e), retry=True, wait_s=_retry_after_s(e))
    if isinstance(e, InternalServerError):
        return _CallFailed("server_error", f"HTTP {e.status_code}", retry=True)
    if isinstance(e, AuthenticationError | PermissionDeniedError):
        return _CallFailed("auth_error", f"HTTP {e.status_code}")
    if isinstance(e, APIStatusError):
        return _CallFailed("api_error", f"HTTP {e.status_code}")
    if isinstance(e, APIResponseValidationError):
        return _CallFailed("api_error", "response did not match the SDK model")
    return _CallFailed("api_error", f"{type(e).__name__}: {e}")


def _retry_after_s(e: RateLimitError) -> float:
    value = e.response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except ValueError:
        return 0.0
