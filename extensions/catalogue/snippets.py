"""Loader snippets: the few lines that open a distribution in a notebook.

Data: pandas (CPU), cuDF (GPU, the same calls) and Dask (larger than memory); xarray where
the format is an array store. Models: the transformers / sentence-transformers call on the
local path, offline. Paths are written as Python string literals (repr), never pasted raw.

A distribution with a curated ``sha256`` gets a ``VERIFY = True`` flag first and a check in the
standard library alone (the user's environment has no factoryhub) that hashes the data with the
rules of :mod:`.integrity` and stops, naming the path, before the loader reads data that changed.
"""
from __future__ import annotations

from .entries import Distribution, Entry

# format -> library -> (import line, call template); {path} is a Python literal
_DATA = {
    "csv": {"pandas": ("import pandas as pd", "df = pd.read_csv({path})"),
            "cudf": ("import cudf", "df = cudf.read_csv({path})"),
            "dask": ("import dask.dataframe as dd", "df = dd.read_csv({path})")},
    "parquet": {"pandas": ("import pandas as pd", "df = pd.read_parquet({path})"),
                "cudf": ("import cudf", "df = cudf.read_parquet({path})"),
                "dask": ("import dask.dataframe as dd", "df = dd.read_parquet({path})")},
    "json": {"pandas": ("import pandas as pd", "df = pd.read_json({path})"),
             "cudf": ("import cudf", "df = cudf.read_json({path})")},
    "jsonl": {"pandas": ("import pandas as pd", "df = pd.read_json({path}, lines=True)"),
              "cudf": ("import cudf", "df = cudf.read_json({path}, lines=True)"),
              "dask": ("import dask.dataframe as dd", "df = dd.read_json({path}, lines=True)")},
    "netcdf": {"xarray": ("import xarray as xr", "ds = xr.open_dataset({path})"),
               "dask": ("import xarray as xr", "ds = xr.open_mfdataset({path}, chunks='auto')")},
    "zarr": {"xarray": ("import xarray as xr", "ds = xr.open_zarr({path})")},
    "hdf5": {"pandas": ("import pandas as pd", "df = pd.read_hdf({path})"),
             "h5py": ("import h5py", "f = h5py.File({path}, 'r')")},
    "tiff": {"rasterio": ("import rasterio", "src = rasterio.open({path})")},
}
_MODELS = {
    "huggingface": {
        "sentence-transformers": ("from sentence_transformers import SentenceTransformer",
                                  "model = SentenceTransformer({path}, local_files_only=True)"),
        "transformers": ("from transformers import AutoModel, AutoTokenizer",
                         "tokenizer = AutoTokenizer.from_pretrained({path}, local_files_only=True)\n"
                         "model = AutoModel.from_pretrained({path}, local_files_only=True)"),
    },
    "safetensors": {"safetensors": ("from safetensors.torch import load_file",
                                    "state_dict = load_file({path})")},
    "pytorch": {"torch": ("import torch", "state_dict = torch.load({path}, weights_only=True)")},
    "onnx": {"onnxruntime": ("import onnxruntime as ort", "session = ort.InferenceSession({path})")},
}


VERIFY_FLAG = ("VERIFY = True  # check the data against its curated SHA-256 first "
               "(one extra read; see the catalogue's integrity docs)")

# The same digest as integrity.digest_path: a file's bytes, or a directory's sha256sum manifest.
VERIFY_CODE = '''import hashlib
import os


def verify_sha256(path, expected):
    """Raise an error naming path unless its SHA-256 (a directory's: of its file list) is expected."""
    def file_sha256(name):
        with open(name, "rb") as data:
            return hashlib.file_digest(data, "sha256").hexdigest()

    def files(folder, prefix=""):  # regular files and links to them; links to folders not followed
        for item in os.scandir(folder):
            if item.is_dir(follow_symlinks=False):
                yield from files(item.path, prefix + item.name + "/")
            elif item.is_file():
                yield os.fsencode(prefix + item.name), item.path

    if os.path.isdir(path):
        lines = [b"%s  %s\\n" % (file_sha256(full).encode(), name) for name, full in sorted(files(path))]
        observed = hashlib.sha256(b"".join(lines)).hexdigest()
    else:
        observed = file_sha256(path)
    if observed != expected:
        raise RuntimeError(f"{path} is not as curated: its SHA-256 is {observed}, the catalogue's {expected}. "
                           "Ask the catalogue's stewards before using it.")
'''


def _verified(dist: Distribution, code: str) -> str:
    """``code`` behind the flag and the check when the distribution has a curated checksum."""
    sha256 = dist.sha256
    if sha256 is None:
        return code
    return (f"{VERIFY_FLAG}\n\n{VERIFY_CODE}\n\nif VERIFY:\n"
            f"    verify_sha256({dist.location!r}, {sha256!r})\n\n{code}")


def _for(dist: Distribution, table: dict) -> dict[str, str]:
    return {library: _verified(dist, f"{imports}\n\n{call.format(path=repr(dist.location))}\n")
            for library, (imports, call) in table.get(dist.format, {}).items()}


def distribution_snippets(entry: Entry, dist: Distribution) -> dict[str, str]:
    """library -> code for one distribution (empty when no loader applies, e.g. a tar archive)."""
    snippets = _for(dist, _MODELS if entry.kind == "model" else _DATA)
    if entry.kind == "model" and not snippets:
        snippets = _for(dist, _DATA)
    return snippets


def entry_snippets(entry: Entry) -> list[dict]:
    """Per distribution: its title and loaders. Call only for a viewer who may use the entry."""
    return [{"distribution": dist.title, "format": dist.format, "snippets": distribution_snippets(entry, dist)}
            for dist in entry.distributions]
