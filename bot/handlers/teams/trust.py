"""Whether a request to POST /api/messages comes from Microsoft's Bot Connector, for this bot.

Every request carries a bearer token (a JWT) that the Bot Connector signs. It is checked here,
by the product, before anything of the request is handed to the Agents SDK, stored or
answered; a request that fails any check gets 401 and is read no further:

- the token is an RS256 JWT whose header names its key (`kid`: a token without one is refused,
  not an error);
- its issuer is one this bot trusts: the Bot Framework (`https://api.botframework.com`) or
  Entra ID for the bot's own tenant (`https://sts.windows.net/TENANT/`,
  `https://login.microsoftonline.com/TENANT/v2.0`, as a single-tenant bot's tokens come);
- it is signed by one of that issuer's published signing keys: the OpenID metadata
  (login.botframework.com, login.microsoftonline.com) names the key set (JWKS); keys are
  kept a day, and a key id not among them fetches the set again (at most every five
  minutes); a Bot Framework key that lists the channels it endorses must endorse the
  activity's channel;
- its audience is the bot's app id; it has expired by no second (the SDK allows five
  minutes: a token expired two minutes ago is refused here) and is not used before its time;
- its `serviceurl` claim is the activity's serviceUrl (the SDK compares nothing when it
  runs without an outbound host list): replies go to the serviceUrl, so a token for one
  service cannot send the bot's answers (and its token) elsewhere. A Bot Framework token
  without the claim is refused.

What 1.9.0 of the SDK leaves open (the `serviceurl` claim, the issuer unless VALIDATE_ISSUER,
the leeway, a kid-less token as a 500) is closed this way, without any switch: the key and
token hosts are Microsoft's, reached over HTTPS with the process's CA certificates and proxy
(`HTTPS_PROXY`, `SSL_CERT_FILE`: the tests reach a local issuer that way).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt import PyJWK

log = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_METADATA = "https://login.botframework.com/v1/.well-known/openidconfiguration"
ENTRA_METADATA = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
KEEP_KEYS = 24 * 3600.0  # seconds a fetched key set is used
REFETCH_AFTER = 300.0  # seconds before an unknown key id fetches the set again
FETCH_TIMEOUT = 10.0


class Refused(Exception):
    """The request is not from the Bot Connector for this bot (401). The reason is for the
    log: it never names the token or anything in it."""


@dataclass
class _KeySet:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched: float = 0.0


def _get_json(url: str) -> Any:
    """GET a JSON document over HTTPS with the environment's proxy and CA certificates (an
    opener of its own, so what the environment says now holds)."""
    if urlsplit(url).scheme != "https":
        raise Refused("a key document that is not served over HTTPS")
    opener = urllib.request.build_opener()
    with opener.open(url, timeout=FETCH_TIMEOUT) as response:
        return json.loads(response.read())


def _same_url(a: str, b: str) -> bool:
    """Whether two service URLs name the same service: scheme and host case-insensitively,
    the path as written, a trailing slash aside."""
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return (
        pa.scheme.casefold() == pb.scheme.casefold()
        and pa.netloc.casefold() == pb.netloc.casefold()
        and pa.path.rstrip("/") == pb.path.rstrip("/")
    )


class Trust:
    """The checks above for one bot (`app_id` in `tenant_id`). One per process: it keeps the
    signing keys it fetched."""

    def __init__(self, app_id: str, tenant_id: str) -> None:
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.metadata = {
            BOT_FRAMEWORK_ISSUER: BOT_FRAMEWORK_METADATA,
            f"https://sts.windows.net/{tenant_id}/": ENTRA_METADATA.format(tenant=tenant_id),
            f"https://login.microsoftonline.com/{tenant_id}/v2.0": ENTRA_METADATA.format(
                tenant=tenant_id
            ),
        }
        self._sets: dict[str, _KeySet] = {}
        self._lock = asyncio.Lock()

    async def claims(
        self, authorization: str | None, *, service_url: str, channel_id: str
    ) -> dict[str, Any]:
        """The verified claims of the request's token, or Refused."""
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Refused("not a JWT") from None
        if header.get("alg") != "RS256":
            raise Refused("not signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Refused("no key id")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self.metadata:
            raise Refused("an issuer this bot does not trust")
        jwk = await self._key(issuer, kid)
        endorsements = jwk.get("endorsements")
        if isinstance(endorsements, list) and channel_id not in endorsements:
            raise Refused("a key that does not endorse the channel")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=PyJWK(jwk, algorithm="RS256"),
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=issuer,
                leeway=0,
                options={"require": ["exp", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Refused(type(exc).__name__) from None
        claimed = claims.get("serviceurl")
        if claimed is None and issuer == BOT_FRAMEWORK_ISSUER:
            raise Refused("no serviceurl claim")
        if claimed is not None and (
            not isinstance(claimed, str) or not _same_url(claimed, service_url)
        ):
            raise Refused("a serviceurl claim for another service")
        return claims

    async def _key(self, issuer: str, kid: str) -> dict[str, Any]:
        async with self._lock:
            url = self.metadata[issuer]
            known = self._sets.get(url)
            now = time.monotonic()
            stale = known is None or now - known.fetched > KEEP_KEYS
            missing = known is not None and kid not in known.keys
            if stale or (missing and known is not None and now - known.fetched > REFETCH_AFTER):
                try:
                    known = self._sets[url] = await asyncio.to_thread(self._fetch, url)
                except Refused:
                    raise
                except Exception as exc:  # the keys cannot be had: nothing can be trusted
                    log.warning("teams: the signing keys could not be fetched: %s", exc)
                    raise Refused("signing keys unavailable") from None
        assert known is not None
        jwk = known.keys.get(kid)
        if jwk is None:
            raise Refused("a key id that is not among the signing keys")
        return jwk

    @staticmethod
    def _fetch(metadata_url: str) -> _KeySet:
        metadata = _get_json(metadata_url)
        jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
        if not isinstance(jwks_uri, str):
            raise Refused("OpenID metadata without jwks_uri")
        keys = _get_json(jwks_uri)
        found = keys.get("keys") if isinstance(keys, dict) else None
        if not isinstance(found, list):
            raise Refused("a key set without keys")
        by_kid = {
            k["kid"]: k
            for k in found
            if isinstance(k, dict) and isinstance(k.get("kid"), str) and k.get("kty") == "RSA"
        }
        return _KeySet(by_kid, time.monotonic())


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Refused("no Authorization header")
    parts = authorization.split()
    if len(parts) != 2 or parts[0].casefold() != "bearer":
        raise Refused("not a bearer token")
    return parts[1]
