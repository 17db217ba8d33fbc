"""FactoryHub's Slurm backend: argv-only client, pure job scripts, one shared watcher."""
