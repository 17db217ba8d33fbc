"""Compute allocations: projects, GPU-hour allocations, usage from Slurm accounting, holds at spawn."""
