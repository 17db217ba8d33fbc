"""FactoryHub's JupyterHub configuration: load the site description, set c.*.

The site is $FACTORYHUB_SITE, else ./site.yaml, else the embedded default
(loopback, SQLite, local sessions). See docs/site.md.
"""
import sys

from factoryhub.hubconfig import configure
from factoryhub.site import SiteError, find_site_file, load_site

c = get_config()  # noqa: F821 (provided by JupyterHub)

try:
    configure(c, load_site(find_site_file()))
except SiteError as err:
    sys.exit(f"FactoryHub cannot start: the site description has problems:\n{err}")
