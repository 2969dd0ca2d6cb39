"""Render every mail template with sample data, for every site's overrides, and say which fail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engagement.i18n.locales import DEFAULT, SHIPPED
from engagement.mail.render import MailRenderer, RenderedMail
from engagement.mail.samples import sample_context
from engagement.mail.templates import TEMPLATES, describe_error, overridden_files, override_sites


@dataclass(frozen=True)
class TemplateCheck:
    """One template as one site's mail (or every site's, ``site`` None) would be rendered."""

    site: str | None
    template: str
    overridden: bool
    error: str | None


def check_templates(overrides: Path | None, known_sites: Iterable[str] = ()) -> list[TemplateCheck]:
    """Every template for every site, with the overrides: the shipped ones, then each site's folder.

    A site folder that names no known site is reported too (when ``known_sites`` is given):
    its overrides would never be used, most likely a typo in the folder's name.
    """
    renderer = MailRenderer(overrides)
    known = set(known_sites)
    results: list[TemplateCheck] = []
    for site in [None, *override_sites(overrides)]:
        if site is not None and known and site not in known:
            results.append(TemplateCheck(site, "*", True, f"emails/{site}/ names no site"))
            continue
        files = overridden_files(overrides, site) if overrides else []
        for name in TEMPLATES:
            error = None
            # In every shipped language: a publisher's {% trans %} or a catalog can break one alone.
            for locale in SHIPPED:
                try:
                    preview_template(renderer, name, site, locale=locale)
                except Exception as exc:  # every error a template can raise is what the check reports
                    error = (
                        f"{describe_error(exc)} (in {locale})" if locale != DEFAULT else describe_error(exc)
                    )
                    break
            overridden = any(name in path.parts or "_base" in path.parts for path in files)
            results.append(TemplateCheck(site, name, overridden, error))
    return results


def preview_template(
    renderer: MailRenderer,
    name: str,
    site: str | None,
    site_values: Mapping[str, Any] | None = None,
    *,
    locale: str | None = None,
) -> RenderedMail:
    """``name`` rendered as ``site``'s mail with sample data, errors raised rather than fallen back.

    ``site_values`` (the site's name, support call…) replace the sample site's when given;
    ``locale`` (a shipped one) renders it in that language.
    """
    if name not in TEMPLATES:
        raise ValueError(f"unknown e-mail template {name!r} (known: {', '.join(TEMPLATES)})")
    context = sample_context(site or "example")
    context["site"] = {**context["site"], **(site_values or {})}
    if locale is not None:
        context["locale"] = locale
    return renderer.render_with(renderer.templates_for(site), name, context)
