"""Who may use the app: the login (Streamlit's ``st.login``) and the refusal
to serve beyond loopback without one.

:func:`require_access` runs first in the router (``app.py``), before any
page: when ``[auth]`` is configured in ``.streamlit/secrets.toml`` every
visitor must log in with the OpenID Connect provider first; without a login
configured, an app that listens beyond loopback (``--server.address``
anything but localhost, or unset: every interface) shows only why it
refuses, unless the operator allowed anonymous use
(``OBJLEN_ALLOW_ANONYMOUS=1``, which ``python -m objlen app
--allow-anonymous`` sets). The rules are :mod:`objlen.access`'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import streamlit as st

from objlen.access import auth_providers, serving_problem


def _secrets() -> Mapping[str, Any]:
    """``st.secrets`` as a dict, or ``{}`` when there is no secrets file."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no (readable) secrets.toml
        return {}


def login_screen(providers: list[str]) -> None:
    """The page a visitor sees before logging in: one button per provider."""
    st.title("objlen")
    st.write("Log in to measure, see the history and run batches.")
    for provider in providers:
        label = "Log in" if provider == "default" else f"Log in with {provider}"
        arguments = () if provider == "default" else (provider,)
        st.button(label, type="primary", key=f"login_{provider}", on_click=st.login, args=arguments)


def require_access() -> None:
    """Stop the script unless this visitor may use the app (see the module's docstring)."""
    secrets = _secrets()
    providers = auth_providers(secrets)
    if providers:
        if not st.user.to_dict().get("is_logged_in"):
            login_screen(providers)
            st.stop()
        with st.sidebar:
            user = st.user.to_dict()
            who = user.get("email") or user.get("name") or "signed in"
            st.caption(f"Logged in as **{who}**")
            st.button("Log out", key="logout", on_click=st.logout)
        return
    problem = serving_problem(st.get_option("server.address"), secrets, os.environ)
    if problem:
        st.title("objlen")
        st.error(f"This app is not served: {problem}.", icon=":material/lock:")
        st.stop()


__all__ = ["login_screen", "require_access"]
