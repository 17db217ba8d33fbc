"""The site description (site.yaml): model, checks and loader."""
from .load import EMBEDDED_DEFAULT, LoadedSite, SiteError, find_site_file, load_site, parse_site
from .model import Profile, Site

__all__ = ["EMBEDDED_DEFAULT", "find_site_file", "LoadedSite", "Profile", "Site", "SiteError", "load_site",
           "parse_site"]
