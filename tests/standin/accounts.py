"""The stand-in's user side: login (/authorize, /api/token with PKCE), /me, playlists a user makes.

As Spotify does it (see docs/spotify_api_2026.md): a code is bound to its client, redirect URI and
PKCE challenge and is good once; tokens expire; a development-mode app serves only the users on
its allow-list (others log in, then every API call is a 403); playlists are created with
POST /me/playlists and filled with POST /playlists/{id}/items, at most 100 URIs a call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from tests.standin.catalog import PLOTIFY_OWNER_ID, Entry, Playlist, synthetic_id
from tests.standin.wire import CLIENT_ID, CLIENT_SECRET, DEFAULT_ERRORS, ApiResponse

ACCOUNT_ROUTES = [
    ("POST", r"/api/token", "token"),
    ("GET", r"/authorize", "authorize"),
    ("GET", r"/v1/me/?", "me"),
    ("POST", r"/v1/me/playlists/?", "create_playlist"),
    ("POST", r"/v1/playlists/(?P<id>\w+)/items", "add_items"),
]
ADD_ITEMS_MAX = 100
NOT_REGISTERED = {
    # What Spotify answers a user missing from a development-mode app's allow-list.
    "error": {"status": 403, "message": "User not registered in the Developer Dashboard"}
}
EXPIRED = {"error": {"status": 401, "message": "The access token expired"}}
TRACK_URI_PREFIX = "spotify:track:"


def _oauth_error(error: str, description: str) -> ApiResponse:
    return ApiResponse(400, {"error": error, "error_description": description})


def _bad_request(message: str) -> ApiResponse:
    return ApiResponse(400, {"error": {"status": 400, "message": message}})


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Accounts:
    """Mixed into StandIn: the state and endpoints of logging in and of a user's own playlists."""

    def init_accounts(self) -> None:
        self.login_user = PLOTIFY_OWNER_ID  # who logs in at /authorize (set it to switch person)
        self.allowed_users: set[str] | None = None  # the development-mode allow-list; None: all
        self.token_lifetime = 3600  # seconds an access token lives (expires_in)
        self.token_users: dict[str, str] = {}  # user access token → user id
        self.token_expiry: dict[str, float] = {}
        self.refresh_tokens: dict[str, str | None] = {}  # refresh token → user id
        self.codes: dict[str, dict] = {}  # authorization code → what it was issued for
        self.created: list[str] = []  # ids of playlists made through POST /me/playlists
        self.created_details: dict[str, dict] = {}  # their public flag and description
        self._accounts_lock = threading.Lock()

    # -- tokens -------------------------------------------------------------------------------
    def check_token(self, token: str) -> ApiResponse | None:
        """None when the bearer token may call the API, else Spotify's refusal."""
        if token not in self.tokens:
            return ApiResponse(401, DEFAULT_ERRORS[401])
        if time.time() >= self.token_expiry.get(token, float("inf")):
            return ApiResponse(401, EXPIRED)
        user = self.token_users.get(token)
        if user is not None and self.allowed_users is not None and user not in self.allowed_users:
            return ApiResponse(403, NOT_REGISTERED)
        return None

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired (refresh tokens stay good)."""
        with self._accounts_lock:
            for token in self.tokens:
                self.token_expiry[token] = 0.0

    def _issue(self, user: str | None, refresh: bool, scope: str | None = None) -> dict:
        token = secrets.token_hex(16)
        with self._accounts_lock:
            self.tokens.add(token)
            if user is not None:
                self.token_users[token] = user
                self.token_expiry[token] = time.time() + self.token_lifetime
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}
        if refresh:
            answer["refresh_token"] = secrets.token_hex(16)
            answer["scope"] = scope or "playlist-read-private playlist-read-collaborative"
            self.refresh_tokens[answer["refresh_token"]] = user
        return answer

    def _client_of(self, form: dict, headers) -> str | None:
        """The client id a token request authenticates as: Basic id:secret, or a public PKCE
        client's client_id in the form (None when the secret is wrong)."""
        basic = (headers.get("Authorization") or "").removeprefix("Basic ")
        if basic:
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            return CLIENT_ID if basic == expected else None
        return form.get("client_id")

    def _token(self, body: bytes, headers, **_):
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        client = self._client_of(form, headers)
        if grant == "client_credentials":
            if client != CLIENT_ID or "Authorization" not in headers:
                return _oauth_error("invalid_client", "Invalid client")
            return ApiResponse(200, self._issue(user=None, refresh=False))
        if grant == "authorization_code":
            issued = self.codes.pop(form.get("code") or "", None)  # a code is good once
            if issued is None:
                return _oauth_error("invalid_grant", "Invalid authorization code")
            if client != issued["client_id"]:
                return _oauth_error("invalid_client", "Invalid client")
            if form.get("redirect_uri") != issued["redirect_uri"]:
                return _oauth_error("invalid_grant", "Invalid redirect URI")
            if issued["challenge"] is not None:
                verifier = form.get("code_verifier") or ""
                if s256(verifier) != issued["challenge"]:
                    return _oauth_error("invalid_grant", "code_verifier was incorrect")
            elif "Authorization" not in headers:
                # Without PKCE only a confidential client (holding the secret) may exchange.
                return _oauth_error("invalid_client", "Invalid client")
            answer = self._issue(issued["user"], refresh=True, scope=issued["scope"])
            return ApiResponse(200, answer)
        if grant == "refresh_token":
            token = form.get("refresh_token")
            if token not in self.refresh_tokens or client != CLIENT_ID:
                return _oauth_error("invalid_grant", "Refresh token revoked")
            return ApiResponse(200, self._issue(self.refresh_tokens[token], refresh=False))
        return ApiResponse(400, {"error": "unsupported_grant_type"})

    def _authorize(self, query, **_):
        # Stands for the person logging in and consenting: redirect straight back with a code.
        def one(name):
            return query.get(name, [None])[0]

        target = one("redirect_uri")
        if one("client_id") != CLIENT_ID or not target:
            return ApiResponse(400, {"error": "invalid_client"})
        params: dict[str, str] = {}
        if one("response_type") != "code":
            params["error"] = "unsupported_response_type"
        elif one("code_challenge") and one("code_challenge_method") != "S256":
            params["error"] = "invalid_request"
        else:
            code = secrets.token_hex(8)
            self.codes[code] = {
                "client_id": CLIENT_ID,
                "redirect_uri": target,
                "challenge": one("code_challenge"),
                "scope": one("scope"),
                "user": self.login_user,
            }
            params["code"] = code
        if one("state"):
            params["state"] = one("state")
        return ApiResponse(302, None, {"Location": f"{target}?{urlencode(params)}"})

    # -- the user's side of the API -----------------------------------------------------------
    def _user_of(self, headers) -> str | None:
        return self.token_users.get((headers.get("Authorization") or "").removeprefix("Bearer "))

    def _me(self, headers, **_):
        user = self._user_of(headers)
        if user is None:  # an app token has no user
            return ApiResponse(401, {"error": {"status": 401, "message": "No user"}})
        body = self._user_object(user)
        body["display_name"] = self.catalog.people.get(user, user)
        return ApiResponse(200, body)

    def _create_playlist(self, body: bytes, headers, **_):
        user = self._user_of(headers)
        if user is None:
            return ApiResponse(401, {"error": {"status": 401, "message": "No user"}})
        try:
            request = json.loads(body or b"null")
        except ValueError:
            return _bad_request("Error parsing JSON.")
        if not isinstance(request, dict) or not isinstance(request.get("name"), str):
            return _bad_request("Missing required field: name")
        playlist_id = synthetic_id("created", f"{user}:{len(self.created)}:{secrets.token_hex(4)}")
        playlist = Playlist(playlist_id, request["name"], user, bool(request.get("collaborative")))
        details = {
            "public": bool(request.get("public", True)),
            "description": request.get("description") or "",
        }
        with self._accounts_lock:
            self.catalog.playlists[playlist_id] = playlist
            self.created.append(playlist_id)
            self.created_details[playlist_id] = details
        answer = self._playlist(playlist_id).body
        answer.update(details)
        return ApiResponse(201, answer)

    def _add_items(self, id, query, body: bytes, headers, **_):
        playlist = self.catalog.playlists.get(id)
        if playlist is None:
            return ApiResponse(404, DEFAULT_ERRORS[404])
        user = self._user_of(headers)
        if user != playlist.owner_id and not playlist.collaborative:
            return ApiResponse(403, {"error": {"status": 403, "message": "Forbidden"}})
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            return _bad_request("Error parsing JSON.")
        # Spotify takes {"uris": [...]} (spotipy sends the bare list) or ?uris=a,b.
        uris = request.get("uris") if isinstance(request, dict) else request
        if uris is None and "uris" in query:
            uris = query["uris"][0].split(",")
        if not isinstance(uris, list) or not uris:
            return _bad_request("No uris provided")
        if len(uris) > ADD_ITEMS_MAX:
            return _bad_request(f"You can add a maximum of {ADD_ITEMS_MAX} tracks per request.")
        ids = []
        for uri in uris:
            known = isinstance(uri, str) and uri.startswith(TRACK_URI_PREFIX)
            track_id = uri.removeprefix(TRACK_URI_PREFIX) if known else None
            if track_id not in self.catalog.tracks:
                return _bad_request(f"Payload contains a non-existing ID: {uri}")
            ids.append(track_id)
        position = request.get("position") if isinstance(request, dict) else None
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries = [Entry("track", t, added_by=user, added_at=now) for t in ids]
        with self._accounts_lock:
            at = len(playlist.entries) if position is None else int(position)
            playlist.entries[at:at] = entries
        return ApiResponse(201, {"snapshot_id": playlist.snapshot_id})

    def playlist_track_ids(self, playlist_id: str) -> list[str]:
        """The playlist's track ids in order (for checking what a client saved)."""
        return [e.track_id for e in self.catalog.playlists[playlist_id].entries]
