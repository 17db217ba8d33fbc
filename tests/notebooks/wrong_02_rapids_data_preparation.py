"""Wrong solutions for 02-rapids-data-preparation.ipynb's exercises: mistakes learners make.

Each entry replaces the exercise's solution cell; the exercise's check must refuse it with an
AssertionError that says what is wrong (tests/harness/notebooks.py runs them).
"""
from __future__ import annotations

WRONG: dict[str, list[str]] = {
    "clean": [
        # drops every row with a missing or glitched value: good readings of the other sensors go too
        '''
def clean_readings(raw):
    cleaned = raw.drop_duplicates()
    for column, (low, high) in VALID_RANGES.items():
        cleaned = cleaned[cleaned[column].between(low, high)]
    return cleaned


cleaned = clean_readings(readings)
''',
        # clips glitches to the range limits: 999.9 °C becomes a plausible-looking 150 °C
        '''
def clean_readings(raw):
    cleaned = raw.drop_duplicates()
    for column, (low, high) in VALID_RANGES.items():
        cleaned[column] = cleaned[column].clip(low, high)
    return cleaned


cleaned = clean_readings(readings)
''',
        # chained assignment: under pandas 3's copy-on-write it changes a temporary copy only
        '''
def clean_readings(raw):
    cleaned = raw.drop_duplicates()
    for column, (low, high) in VALID_RANGES.items():
        cleaned[column][~cleaned[column].between(low, high)] = np.nan
    return cleaned


cleaned = clean_readings(readings)
''',
        # forgets the re-sent duplicates
        '''
def clean_readings(raw):
    cleaned = raw.copy()
    for column, (low, high) in VALID_RANGES.items():
        cleaned[column] = cleaned[column].where(cleaned[column].between(low, high))
    return cleaned


cleaned = clean_readings(readings)
''',
    ],
    "join-machines": [
        # inner join (the default of merge): readings of unregistered machines disappear
        '''
enriched = cleaned.merge(machines[["machine_id", "model", "rated_current"]], on="machine_id")
enriched["load"] = enriched["motor_current"] / enriched["rated_current"]
''',
        # outer join: the decommissioned machine comes in as a row without readings
        '''
enriched = cleaned.merge(machines[["machine_id", "model", "rated_current"]], on="machine_id", how="outer")
enriched["load"] = enriched["motor_current"] / enriched["rated_current"]
''',
        # the whole register: both tables have `line`, so the result has line_x and line_y
        '''
enriched = cleaned.merge(machines, on="machine_id", how="left")
enriched["load"] = enriched["motor_current"] / enriched["rated_current"]
''',
    ],
    "line-stats": [
        # mean of per-machine means
        '''
running = enriched[enriched["state"] == "running"]
per_machine = running.groupby(["line", "machine_id"])["vibration_rms"].mean()
line_stats = pd.DataFrame({
    "vibration_mean": per_machine.groupby(level="line").mean(),
    "fault_share": (enriched["state"] == "fault").groupby(enriched["line"]).mean(),
    "machines": enriched.groupby("line")["machine_id"].nunique(),
})
''',
        # idle and fault rows included in the running vibration
        '''
line_stats = pd.DataFrame({
    "vibration_mean": enriched.groupby("line")["vibration_rms"].mean(),
    "fault_share": (enriched["state"] == "fault").groupby(enriched["line"]).mean(),
    "machines": enriched.groupby("line")["machine_id"].nunique(),
})
''',
        # a count where a share was asked for
        '''
running = enriched[enriched["state"] == "running"]
line_stats = pd.DataFrame({
    "vibration_mean": running.groupby("line")["vibration_rms"].mean(),
    "fault_share": (enriched["state"] == "fault").groupby(enriched["line"]).sum(),
    "machines": enriched.groupby("line")["machine_id"].nunique(),
})
''',
    ],
    "rolling-features": [
        # windows over rows in arrival order; sorting at the end does not repair them
        '''
def add_features(frame):
    by_machine = frame.groupby("machine_id")
    out = frame.copy()
    out["temp_mean_60"] = by_machine["temperature"].rolling(60, min_periods=1).mean().reset_index(level=0, drop=True)
    out["vib_max_15"] = by_machine["vibration_rms"].rolling(15, min_periods=1).max().reset_index(level=0, drop=True)
    return out.sort_values(["machine_id", "timestamp"]).reset_index(drop=True)


features = add_features(enriched)
''',
        # centred windows: each feature sees 30 minutes of the future (leakage)
        '''
def add_features(frame):
    out = frame.sort_values(["machine_id", "timestamp"]).reset_index(drop=True)
    by_machine = out.groupby("machine_id")
    out["temp_mean_60"] = (by_machine["temperature"].rolling(60, min_periods=1, center=True).mean()
                           .reset_index(level=0, drop=True))
    out["vib_max_15"] = (by_machine["vibration_rms"].rolling(15, min_periods=1, center=True).max()
                         .reset_index(level=0, drop=True))
    return out


features = add_features(enriched)
''',
        # no group-by: each machine's first windows reach into the previous machine's readings
        '''
def add_features(frame):
    out = frame.sort_values(["machine_id", "timestamp"]).reset_index(drop=True)
    out["temp_mean_60"] = out["temperature"].rolling(60, min_periods=1).mean()
    out["vib_max_15"] = out["vibration_rms"].rolling(15, min_periods=1).max()
    return out


features = add_features(enriched)
''',
    ],
    "dask-fault-minutes": [
        # the re-sent duplicates are counted twice
        '''
faults = dd.read_parquet(readings_path, columns=["machine_id", "state"])
faults = faults[faults["state"] == "fault"]
fault_minutes = faults.groupby("machine_id").size().compute()
''',
        # every reading counted, not the faults
        '''
readings_lazy = dd.read_parquet(readings_path, columns=["machine_id", "timestamp", "state"])
fault_minutes = readings_lazy.drop_duplicates(subset=["machine_id", "timestamp"]).groupby("machine_id").size().compute()
''',
        # never computed: a lazy Dask Series
        '''
faults = dd.read_parquet(readings_path, columns=["machine_id", "timestamp", "state"])
faults = faults[faults["state"] == "fault"].drop_duplicates(subset=["machine_id", "timestamp"])
fault_minutes = faults.groupby("machine_id").size()
''',
    ],
}
