"""FactoryHub's compute layer: session options, local and Slurm spawners."""
