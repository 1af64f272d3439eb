"""The voters' OpenID Connect identity providers, read from the environment (README
"Configuration"): the national authentication gateway, an eIDAS node, or several of either.

``OIDC_PROVIDERS=latvija,eidas`` names them; each is then configured by ``OIDC_<NAME>_*``
variables (``ISSUER``, ``CLIENT_ID``, ``CLIENT_SECRET`` and the optional ones below). A level of
assurance comes back in a claim (``acr`` unless configured): the eIDAS URIs are known, a
gateway's own values are mapped by ``OIDC_<NAME>_LEVELS``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# eIDAS Regulation Art. 8 levels of assurance, weakest first.
LEVELS = ("low", "substantial", "high")
EIDAS_LEVELS = {f"http://eidas.europa.eu/LoA/{level}": level for level in LEVELS}
KINDS = ("gateway", "eidas")


@dataclass(frozen=True)
class OidcProvider:
    """One OpenID Connect provider voters may sign in with."""

    name: str
    kind: str  # "gateway" (the national authentication gateway) or "eidas" (an eIDAS node)
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    label_lv: str = ""
    label_en: str = ""
    scope: str = "openid profile"
    personal_code_claim: str = "personal_code"
    # The claim naming how the person authenticated (eParaksts Mobile, Smart-ID, eID card, a
    # bank): ``amr`` (a list) or ``acr`` or a claim of the gateway's own.
    method_claim: str = "amr"
    level_claim: str = "acr"
    # The provider's own level values and the eIDAS level each stands for.
    levels: tuple[tuple[str, str], ...] = ()
    acr_values: str = ""  # asked for in the authentication request (empty: none)
    minimum_level: str = "substantial"

    def level_of(self, value: object) -> str | None:
        """The eIDAS level a claimed value stands for (``None``: unknown, never enough)."""
        if not isinstance(value, str):
            return None
        return dict(self.levels).get(value) or EIDAS_LEVELS.get(value)

    def is_enough(self, level: str | None) -> bool:
        """Whether ``level`` reaches the provider's required level of assurance."""
        return level in LEVELS and LEVELS.index(level) >= LEVELS.index(self.minimum_level)

    def problems(self, production: bool) -> list[str]:
        """What is missing or unsafe in this provider's settings (empty when usable)."""
        prefix = f"OIDC_{self.name.upper()}_"
        found = [f"{prefix}{key} must be set" for key, value in (
            ("ISSUER", self.issuer), ("CLIENT_ID", self.client_id),
            ("CLIENT_SECRET", self.client_secret)) if not value]
        if not re.fullmatch(r"[a-z0-9_-]{1,30}", self.name):
            found.append(f"OIDC_PROVIDERS: {self.name!r} is not a name of letters a-z, digits, "
                         "- or _ (up to 30)")
        if self.kind not in KINDS:
            found.append(f"{prefix}KIND must be one of {', '.join(KINDS)}")
        if self.minimum_level not in LEVELS:
            found.append(f"{prefix}MINIMUM_LEVEL must be one of {', '.join(LEVELS)}")
        found += [f"{prefix}LEVELS maps {value!r} to {level!r}, not one of {', '.join(LEVELS)}"
                  for value, level in self.levels if level not in LEVELS]
        if "openid" not in self.scope.split():
            found.append(f"{prefix}SCOPE must include openid")
        if production and self.issuer and not self.issuer.startswith("https://"):
            found.append(f"{prefix}ISSUER must be an https:// address in production")
        if production and self.minimum_level == "low":
            found.append(f"{prefix}MINIMUM_LEVEL must be at least substantial in production")
        return found


def _levels(value: str) -> tuple[tuple[str, str], ...]:
    """``value=level,value=level`` → pairs (the value may itself contain ``=`` or ``:``)."""
    pairs = []
    for item in value.split(","):
        if item.strip():
            claimed, _, level = item.strip().rpartition("=")
            pairs.append((claimed.strip(), level.strip().lower()))
    return tuple(pairs)


def providers_from_env(env: Mapping[str, str]) -> tuple[OidcProvider, ...]:
    """The providers named by ``OIDC_PROVIDERS``, in that order (checked by
    :meth:`OidcProvider.problems`, not here)."""
    names = [n.strip().lower() for n in env.get("OIDC_PROVIDERS", "").split(",") if n.strip()]
    minimum = env.get("OIDC_MINIMUM_LEVEL", "substantial").strip().lower()
    providers = []
    for name in dict.fromkeys(names):
        def get(key: str, default: str = "", name: str = name) -> str:
            return env.get(f"OIDC_{name.upper()}_{key}", default).strip()

        kind = get("KIND", "eidas" if name == "eidas" else "gateway").lower()
        providers.append(OidcProvider(
            name=name, kind=kind, issuer=get("ISSUER"), client_id=get("CLIENT_ID"),
            client_secret=get("CLIENT_SECRET"), label_lv=get("LABEL_LV"),
            label_en=get("LABEL_EN"), scope=get("SCOPE", "openid profile"),
            personal_code_claim=get("PERSONAL_CODE_CLAIM", "personal_code"),
            method_claim=get("METHOD_CLAIM", "amr"), level_claim=get("LEVEL_CLAIM", "acr"),
            levels=_levels(get("LEVELS")), acr_values=get("ACR_VALUES"),
            minimum_level=get("MINIMUM_LEVEL", minimum).lower()))
    return tuple(providers)
