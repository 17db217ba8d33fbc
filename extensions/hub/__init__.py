"""FactoryHub: a JupyterHub distribution for AI Factory Slurm GPU clusters (hub side)."""

__version__ = "0.1.0"
