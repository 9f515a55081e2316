"""The Spotify and ReccoBeats clients of one run or look-up, built from its LiveSettings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from etl import auth
from etl.calls import CallGuard
from etl.providers import FeatureChain, build_chain
from etl.reccobeats import ReccoBeatsApi
from etl.spotify import SpotifyApi, plain_session


@dataclass(frozen=True)
class LiveSettings:
    """What the clients need to know; the app's settings module fills it from configuration."""

    client_id: str | None
    client_secret: str | None
    redirect_uri: str | None
    instance_path: str
    api_base: str
    token_url: str
    authorize_url: str
    reccobeats_base: str
    providers: str
    timeout: float
    retries: int
    max_wait: float
    user_auth: bool | None = None  # None: as the user if a user token is cached, else as the app
    backoff: float = 0.5

    @property
    def provider_order(self) -> list[str]:
        return [name.strip() for name in self.providers.split(",") if name.strip()]


class Clients:
    """One CallGuard, one HTTP session, ReccoBeats, and Spotify once credentials allow it."""

    def __init__(
        self,
        settings: LiveSettings,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str, float, float, float], None] | None = None,
    ):
        self.settings = settings
        self.guard = CallGuard(
            max_wait=settings.max_wait,
            retries=settings.retries,
            backoff=settings.backoff,
            sleep=sleep,
            on_wait=on_wait,
        )
        self.session = plain_session()
        self.reccobeats = ReccoBeatsApi(
            self.guard, settings.reccobeats_base, self.session, settings.timeout
        )
        self._spotify: SpotifyApi | None = None

    @property
    def spotify(self) -> SpotifyApi:
        """The Spotify client; raises auth.MissingCredentials when it cannot be built."""
        if self._spotify is None:
            s = self.settings
            as_user = (
                s.user_auth if s.user_auth is not None else auth.has_user_token(s.instance_path)
            )
            if as_user:
                manager = auth.user_authorisation(
                    s.client_id,
                    s.client_secret,
                    s.redirect_uri,
                    auth.token_cache_path(s.instance_path),
                    s.token_url,
                    s.authorize_url,
                    self.session,
                    s.timeout,
                )
            else:
                manager = auth.client_credentials(
                    s.client_id,
                    s.client_secret,
                    s.token_url,
                    self.session,
                    s.timeout,
                    auth.app_token_cache_path(s.instance_path),
                )
            self._spotify = SpotifyApi(manager, self.guard, s.api_base, self.session, s.timeout)
        return self._spotify

    def spotify_if_configured(self) -> SpotifyApi | None:
        try:
            return self.spotify
        except auth.MissingCredentials:
            return None

    def feature_chain(self, say: Callable[[str], None]) -> FeatureChain:
        """The configured feature providers that can be used; ValueError for an unknown name."""
        order = self.settings.provider_order
        spotify = self.spotify_if_configured() if "spotify" in order else None
        if "spotify" in order and spotify is None:
            say("No Spotify credentials: audio features from the other providers.")
        return build_chain(order, spotify, self.reccobeats, say)
