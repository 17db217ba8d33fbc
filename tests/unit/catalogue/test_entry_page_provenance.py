"""The entry page shows structured provenance as lists (sources with licence and date, steps in order with
tool and version, the curator), escaped, and legacy free text as it was."""
from __future__ import annotations

from urllib.parse import quote

from factoryhub.catalogue import pages
from factoryhub.catalogue.access import Viewer, details
from factoryhub.webservice import TemplateLoader

from .builders import entry
from .test_provenance import FULL


def render(shown: dict) -> str:
    template = TemplateLoader(pages.TEMPLATES).load("entry.html")
    html = template.generate(
        entry=shown, prefix="/services/factoryhub-catalogue/", hub_prefix="/hub/", site_name="FactoryHub",
        user_name="ada", url_escape=lambda text: quote(text, safe=""), message="", message_kind="info",
        is_steward=False, snippets=[], terms="", terms_sha256="", requests=[], justification="", pending=False,
        title=shown["title"], xsrf_form_html=lambda: "").decode()
    start = html.index('id="fh-provenance"')
    return html[start:html.index("</dd>", start)]


def test_structured_provenance_is_shown_as_sources_steps_and_curator():
    section = render(details(entry(provenance={**FULL, "statement": "<b>Attribution</b> required."}), Viewer("ada")))
    sources = section[section.index('id="fh-provenance-sources"'):section.index("</ul>")]
    assert sources.count("<li>") == 2
    assert '<a href="https://archive.example.eu/" rel="noopener noreferrer">Weather service archive</a>' in sources
    assert '<a href="https://spdx.org/licenses/CC-BY-4.0.html">CC-BY-4.0</a>' in sources
    assert "collected 2024-03-01" in sources and "collected 2024-03-04" in sources
    assert "LicenseRef-register-terms" in sources and "licenses/LicenseRef" not in sources  # no SPDX page for it
    steps = section[section.index('id="fh-provenance-steps"'):section.index("</ol>")]
    assert steps.index("cropped to Europe") < steps.index("reviewed outliers by hand") < steps.index("daily means")
    assert "(xarray 2024.11.0)" in steps and "(cdo)" in steps
    assert "Curated by Climate data team &lt;climate@example.eu&gt; on 2024-03-10" in section
    assert "&lt;b&gt;Attribution&lt;/b&gt; required." in section  # escaped, not markup


def test_raw_data_says_it_was_used_as_collected():
    raw = {"sources": FULL["sources"][:1], "steps": [], "curated_by": {"name": "Desk"}}
    section = render(details(entry(provenance=raw), Viewer("ada")))
    assert "Processing: none, used as collected." in section and "<ol" not in section
    assert "Curated by Desk</div>" in section


def test_legacy_free_text_is_shown_as_it_was():
    section = render(details(entry(provenance="Exported from the old archive in 2019 <by hand>."), Viewer("ada")))
    assert "Exported from the old archive in 2019 &lt;by hand&gt;." in section
    assert "fh-provenance-sources" not in section
