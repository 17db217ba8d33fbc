"""Loader snippets: the few lines that open a distribution in a notebook.

Data: pandas (CPU), cuDF (GPU, the same calls) and Dask (larger than memory); xarray where
the format is an array store. Models: the transformers / sentence-transformers call on the
local path, offline. Paths are written as Python string literals (repr), never pasted raw.
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


def _for(dist: Distribution, table: dict) -> dict[str, str]:
    return {library: f"{imports}\n\n{call.format(path=repr(dist.location))}\n"
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
