"""Plausible wrong answers to 04-scaling-out-with-dask.ipynb's exercises: each check must refuse them."""

WRONG = {
    "budget-workers": [
        # rounds a part of a worker up
        "def workers_within_budget(remaining_gpu_hours, gpus_per_worker, walltime_hours, price, wanted):\n"
        "    cost = gpus_per_worker * walltime_hours * price\n"
        "    if cost <= 0:\n"
        "        return wanted\n"
        "    return max(0, min(wanted, math.ceil(remaining_gpu_hours / cost)))\n",
        # forgets the price factor
        "def workers_within_budget(remaining_gpu_hours, gpus_per_worker, walltime_hours, price, wanted):\n"
        "    cost = gpus_per_worker * walltime_hours\n"
        "    if cost <= 0:\n"
        "        return wanted\n"
        "    return max(0, min(wanted, math.floor(remaining_gpu_hours / cost)))\n",
        # lets an overdrawn project have a negative count
        "def workers_within_budget(remaining_gpu_hours, gpus_per_worker, walltime_hours, price, wanted):\n"
        "    cost = gpus_per_worker * walltime_hours * price\n"
        "    if cost <= 0:\n"
        "        return wanted\n"
        "    return min(wanted, math.floor(remaining_gpu_hours / cost))\n",
    ],
    "line-vibration": [
        # every row, not only running machines
        "line_vibration = readings.groupby('line')['vibration_rms'].mean().compute().sort_index()\n",
        # leaves idle machines in: only faults taken out
        "line_vibration = readings[readings['state'] != 'fault'].groupby('line')['vibration_rms'].mean().compute()\n",
        # the lazy object, never computed
        "line_vibration = readings[readings['state'] == 'running'].groupby('line')['vibration_rms'].mean()\n",
    ],
}
