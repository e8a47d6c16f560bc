"""A local Microsoft for the Teams transport's tests, all on 127.0.0.1, in a thread of its own:

- a token issuer (HTTPS, with a certificate for login.botframework.com and
  login.microsoftonline.com from a throw-away CA made here): the Bot Framework's and the
  tenant's OpenID metadata and signing keys (JWKS), Entra's instance discovery and a token
  endpoint that hands out the bot's outgoing token;
- an HTTPS proxy that tunnels CONNECT to those hosts to the issuer: the product and the SDK
  reach the fixed hosts through the standard HTTPS_PROXY, SSL_CERT_FILE and REQUESTS_CA_BUNDLE,
  with no switch of the product's;
- a fake Bot Connector (the activities' serviceUrl) that records what the bot posts and
  updates, answers with a status it is told to (a 429 with Retry-After, a 403), and checks that
  every call carries the token the issuer handed out;
- a OneDrive for Business (HTTPS as FILE_HOST, through the same proxy and CA): the files
  people sent the bot, at pre-authenticated download URLs (`file_url`), and upload sessions
  the bot puts files into (`upload_url`); every request recorded (`file_requests`).

`token(...)` signs inbound tokens as the Bot Connector would (or forges them).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
BF_ISSUER = "https://api.botframework.com"
FILE_HOST = "contoso-my.sharepoint.com"
HOSTS = ("login.botframework.com", "login.microsoftonline.com", FILE_HOST)
KID = "vangnet-test-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str] | None) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    jwk: dict[str, Any] = {
        "kty": "RSA",
        "use": "sig",
        "kid": kid,
        "n": _b64(numbers.n),
        "e": _b64(numbers.e),
    }
    if endorsements is not None:
        jwk["endorsements"] = endorsements
    return jwk


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA, and a server certificate for HOSTS signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vangnet test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in HOSTS]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    authorization: str


@dataclass
class FileRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalMicrosoft:
    folder: Path
    signing_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    outgoing_token: str = field(default_factory=lambda: "outgoing-" + uuid.uuid4().hex)
    calls: list[Call] = field(default_factory=list)
    token_requests: int = 0
    # the tenant's people as the Bot Connector knows them: Entra object id → UPN
    members: dict[str, str] = field(default_factory=dict)
    # statuses the connector answers the next posts with, first first (then 200)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # OneDrive: the files at their download URLs (by name), and every request to it
    files: dict[str, bytes] = field(default_factory=dict)
    file_requests: list[FileRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ca_path, self.cert_path, self.key_path = _certificates(self.folder)
        self.issuer_port = _free_port()
        self.proxy_port = _free_port()
        self.connector_port = _free_port()
        self.file_port = _free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="local-microsoft", daemon=True)
        self.runners: list[web.AppRunner] = []
        self.proxy: asyncio.Server | None = None

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.connector_port}/"

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    # --- tokens -------------------------------------------------------------------------

    def token(
        self,
        *,
        service_url: str | None = None,
        audience: str = APP_ID,
        issuer: str = BF_ISSUER,
        expires_in: float = 600,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = KID,
        claims: dict[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": int(now + expires_in),
            "serviceurl": self.service_url if service_url is None else service_url,
        }
        payload.update(claims or {})
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(
            payload, key or self.signing_key, algorithm="RS256", headers=headers or None
        )

    # --- running ------------------------------------------------------------------------

    def start(self) -> LocalMicrosoft:
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the local issuer did not start")
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self.proxy is not None:
                self.proxy.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            for runner in self.runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.close()

    async def _start(self) -> None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert_path, self.key_path)
        issuer = web.Application()
        issuer.add_routes(
            [
                web.get("/v1/.well-known/openidconfiguration", self._bf_metadata),
                web.get("/v1/.well-known/keys", self._keys),
                web.get("/common/discovery/instance", self._instance),
                web.get("/{tenant}/v2.0/.well-known/openid-configuration", self._entra_metadata),
                web.get("/{tenant}/discovery/v2.0/keys", self._keys),
                web.post("/{tenant}/oauth2/v2.0/token", self._token),
            ]
        )
        connector = web.Application()
        connector.add_routes(
            [
                web.post("/v3/conversations", self._create),
                web.post("/v3/conversations/{conversation}/activities", self._post),
                web.post("/v3/conversations/{conversation}/activities/{id}", self._post),
                web.put("/v3/conversations/{conversation}/activities/{id}", self._put),
                web.get("/v3/conversations/{conversation}/members/{member}", self._member),
            ]
        )
        onedrive = web.Application(client_max_size=20 * 1024 * 1024)
        onedrive.add_routes(
            [
                web.get("/personal/download/{name}", self._download),
                web.put("/personal/upload/{name}", self._upload),
            ]
        )
        for app, port, context in (
            (issuer, self.issuer_port, tls),
            (connector, self.connector_port, None),
            (onedrive, self.file_port, tls),
        ):
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
            self.runners.append(runner)
        self.proxy = await asyncio.start_server(self._tunnel, "127.0.0.1", self.proxy_port)

    # --- the proxy ----------------------------------------------------------------------

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """CONNECT to one of HOSTS:443 goes to the issuer; anything else is refused."""
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            first = request.split(b"\r\n", 1)[0].decode()
            method, target, _ = first.split(" ", 2)
            if method != "CONNECT":
                # a plain HTTP request some client sends through the proxy although it is
                # for 127.0.0.1 (slack_sdk reads HTTPS_PROXY and not NO_PROXY): passed on
                local = urlsplit(target)
                if local.scheme != "http" or local.hostname != "127.0.0.1":
                    writer.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                    await writer.drain()
                    return
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", local.port)
                up_writer.write(request)
            else:
                if target.rsplit(":", 1)[0] not in HOSTS:
                    writer.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                    await writer.drain()
                    return
                port = self.file_port if target.startswith(FILE_HOST) else self.issuer_port
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                try:
                    while data := await src.read(65536):
                        dst.write(data)
                        await dst.drain()
                finally:
                    dst.close()

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    # --- the issuer ---------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return {"keys": [_jwk(self.signing_key, KID, ["msteams", "emulator"])]}

    async def _bf_metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": BF_ISSUER,
                "jwks_uri": "https://login.botframework.com/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks())

    async def _instance(self, request: web.Request) -> web.Response:
        tenant = TENANT
        return web.json_response(
            {
                "tenant_discovery_endpoint": (
                    f"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": "login.microsoftonline.com",
                        "preferred_cache": "login.windows.net",
                        "aliases": ["login.microsoftonline.com", "login.windows.net"],
                    }
                ],
            }
        )

    async def _entra_metadata(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        base = f"https://login.microsoftonline.com/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != APP_ID or form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "invalid_client"}, status=401)
        with self.lock:
            self.token_requests += 1
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": self.outgoing_token}
        )

    # --- the connector ------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, **headers: str) -> None:
        with self.lock:
            self.failures.extend([(status, headers)] * times)

    async def _record(self, request: web.Request) -> web.Response | None:
        authorization = request.headers.get("Authorization", "")
        if authorization != f"Bearer {self.outgoing_token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
            if failure is None:
                self.calls.append(
                    Call(request.method, request.path, await request.json(), authorization)
                )
        if failure is not None:
            status, headers = failure
            return web.json_response(
                {"error": {"code": str(status)}}, status=status, headers=headers
            )
        return None

    async def _post(self, request: web.Request) -> web.Response:
        refused = await self._record(request)
        return refused or web.json_response({"id": "sent-" + uuid.uuid4().hex[:12]})

    async def _create(self, request: web.Request) -> web.Response:
        refused = await self._record(request)
        if refused is not None:
            return refused
        body = self.calls[-1].body
        member = body["members"][0]["id"]
        return web.json_response({"id": f"a:created-{member}"})

    async def _member(self, request: web.Request) -> web.Response:
        """GET a conversation member: who a `29:` id is (their object id and UPN)."""
        if request.headers.get("Authorization", "") != f"Bearer {self.outgoing_token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        member = request.match_info["member"]
        object_id = member.removeprefix("29:")
        with self.lock:
            upn = self.members.get(object_id)
        if upn is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation"}}, status=404
            )
        return web.json_response(
            {
                "id": member,
                "name": "Someone",
                "aadObjectId": object_id,
                "userPrincipalName": upn,
                "tenantId": TENANT,
                "userRole": "user",
            }
        )

    def created(self) -> list[dict[str, Any]]:
        """The conversations the bot opened (POST /v3/conversations)."""
        with self.lock:
            return [c.body for c in self.calls if c.path == "/v3/conversations"]

    async def _put(self, request: web.Request) -> web.Response:
        refused = await self._record(request)
        return refused or web.json_response({"id": request.match_info["id"]})

    # --- OneDrive -----------------------------------------------------------------------

    def file_url(self, name: str) -> str:
        """The pre-authenticated download URL of a file someone sent (in `files`)."""
        return f"https://{FILE_HOST}/personal/download/{name}?tempauth=t0k3n"

    def upload_url(self, name: str) -> str:
        return f"https://{FILE_HOST}/personal/upload/{name}?tempauth=upl0ad"

    def downloads(self) -> list[FileRequest]:
        with self.lock:
            return [r for r in self.file_requests if r.method == "GET"]

    def uploads(self) -> list[FileRequest]:
        with self.lock:
            return [r for r in self.file_requests if r.method == "PUT"]

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """GET, or HEAD (aiohttp answers it with the same headers and no body)."""
        with self.lock:
            self.file_requests.append(
                FileRequest(request.method, request.path, dict(request.headers), b"")
            )
            data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self.lock:
            self.file_requests.append(
                FileRequest(request.method, request.path, dict(request.headers), body)
            )
        return web.json_response({"id": "item-1", "name": request.match_info["name"]}, status=201)

    # --- what the bot sent --------------------------------------------------------------

    def posted(self, conversation: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                c.body
                for c in self.calls
                if c.method == "POST"
                and c.path != "/v3/conversations"
                and (conversation is None or conversation in c.path)
            ]

    def updated_paths(self) -> list[tuple[str, dict[str, Any]]]:
        """(path, body) of every update (PUT) of a posted activity."""
        with self.lock:
            return [(c.path, c.body) for c in self.calls if c.method == "PUT"]

    def updated(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(c.path.rsplit("/", 1)[1], c.body) for c in self.calls if c.method == "PUT"]


def texts(activity: dict[str, Any]) -> str:
    """Everything readable in a posted activity: its text and its card's texts and buttons."""
    found = [activity.get("text") or ""]
    for attachment in activity.get("attachments") or []:
        found.append(json.dumps(attachment.get("content"), ensure_ascii=False))
    return "\n".join(found)


def activity(
    rig: LocalMicrosoft,
    *,
    object_id: str,
    text: str | None = None,
    value: dict[str, Any] | None = None,
    kind: str = "message",
    conversation: str = "a:personal-chat",
    conversation_type: str = "personal",
    activity_id: str | None = None,
    reply_to_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An activity as Teams sends it (the shape of the recorded ones in fixtures/)."""
    body: dict[str, Any] = {
        "type": kind,
        "id": activity_id or "1" + uuid.uuid4().hex[:15],
        "timestamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "localTimestamp": dt.datetime.now(dt.UTC).isoformat(),
        "serviceUrl": rig.service_url,
        "channelId": "msteams",
        "from": {"id": "29:" + object_id, "name": "Someone", "aadObjectId": object_id},
        "conversation": {
            "conversationType": conversation_type,
            "tenantId": TENANT,
            "id": conversation,
        },
        "recipient": {"id": "28:" + APP_ID, "name": "Vangnet"},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "nl-NL",
    }
    if text is not None:
        body["text"] = text
        body["textFormat"] = "plain"
    if value is not None:
        body["value"] = value
    if reply_to_id is not None:
        body["replyToId"] = reply_to_id
    body.update(extra)
    return body


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()
