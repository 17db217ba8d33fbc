"""Synthetic industrial sensor readings: the catalogue's *sensor-readings* data set.

    python make_sensor_data.py --out DIR [--scale ci|full] [--seed N] [--machines N] [--days N]

Writes, under DIR:

- ``readings.parquet/`` — one row per machine and minute, Hive-partitioned by production line
  (``line=L1/part-00.parquet`` …, one file per line and ten days, snappy), columns
  timestamp, machine_id, line (the partition key), temperature [°C], vibration_rms [mm/s],
  pressure [bar], motor_current [A] (float32) and state (running / idle / fault);
- ``readings-sample.csv`` — the first 20,000 rows, in file order, for a look without Parquet;
- ``machines.parquet`` — the asset register: machine_id, line, model, vendor, installed,
  rated_current [A], temperature_limit [°C].

Full scale (the catalogue's copy): 48 machines on four lines over 60 days, 4,147,200 readings
plus the re-sent duplicates below. ``ci`` is 16 machines over 7 days (161,280 readings).
The same seed gives the same files, byte for byte (with the same pyarrow).

How the signals are made: every machine has a model (rated current, heat, vibration level) and
its line's shift pattern (L1 three shifts Mon–Fri, L2 the same plus Saturday morning, L3 two shifts
Mon–Fri, L4 around the clock), plus short planned stops and one longer maintenance outage. While
it runs, temperature follows the hall's daily cycle plus a warm-up towards the machine's working
temperature; load has a daily cycle; every sensor adds a seeded random walk (slow drift of the
plant) and white noise, rounded to the sensor's resolution.

What is injected, on purpose:

- **Fault episodes** (``state == "fault"``, FAULT_SHARE = 1.5 % of the machine-minutes, more
  on worn machines): *drift* (temperature and vibration ramp up over hours: overheating, bearing
  wear), *spikes* (bursts of vibration and current peaks) and *stuck* (one sensor repeats its
  value exactly). A machine in a fault episode is running (its signals are running ones).
- **Dirt for the cleaning lesson** (DIRT, shares of rows): re-sent *duplicates* (exact copies,
  a few minutes later in the file), *late* rows (up to half an hour out of time order), *missing*
  sensor values (one sensor, or the whole reading) and out-of-range *glitches* (sentinel values
  such as -273.15 °C or 6553.5 bar, outside VALID_RANGES). Fault-episode signals stay inside
  VALID_RANGES, so cleaning never removes a fault.
- **The register is incomplete**: a machine or two (one per 24) commissioned after the register
  was exported have readings but no register row, and one decommissioned machine has a register
  row but no readings — the join lesson's left join keeps the former and ignores the latter.

Rows are in arrival order: by minute, machines in order within a minute, late and duplicated
rows where they arrived. So rows are *not* sorted by machine and time.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

SCALES = {"ci": {"machines": 16, "days": 7}, "full": {"machines": 48, "days": 60}}
DEFAULT_SEED = 7
START = np.datetime64("2025-01-06T00:00", "m")  # a Monday; the calendar means nothing
LINES = ("L1", "L2", "L3", "L4")
SAMPLE_ROWS = 20_000
DAYS_PER_FILE = 10
STATES = np.array(["running", "idle", "fault"])
SENSORS = ("temperature", "vibration_rms", "pressure", "motor_current")
VALID_RANGES = {"temperature": (-40.0, 150.0), "vibration_rms": (0.0, 50.0),
                "pressure": (0.0, 16.0), "motor_current": (0.0, 250.0)}
RESOLUTION = {"temperature": 2, "vibration_rms": 3, "pressure": 3, "motor_current": 2}  # decimals
GLITCHES = {"temperature": (-273.15, 999.9), "vibration_rms": (-1.0, 327.67),
            "pressure": (-1.0, 6553.5), "motor_current": (-1.0, 6553.5)}
FAULT_SHARE = 0.015
DIRT = {"duplicate": 0.003, "late": 0.003, "missing": 0.001, "missing_reading": 0.0002, "glitch": 0.0005}

# model: vendor, rated current [A], temperature limit [°C], heat [K above the hall], vibration [mm/s]
MODELS = {
    "CNC-M5": ("Werkzeugbau Nord", 32.0, 75.0, 28.0, 2.2),
    "HP-250": ("Presswerk Sued", 63.0, 70.0, 24.0, 3.4),
    "RB-12": ("Robotik Mitte", 16.0, 65.0, 16.0, 1.2),
    "CP-40": ("Kompressoren West", 40.0, 85.0, 36.0, 4.0),
}
LINE_MODELS = {"L1": ("CNC-M5", "RB-12"), "L2": ("HP-250", "RB-12"),
               "L3": ("RB-12", "CNC-M5"), "L4": ("CP-40", "HP-250")}
# line: ((first weekday, last weekday, from hour, to hour), ...) when it is scheduled to run
SHIFTS = {"L1": ((0, 4, 0, 24),), "L2": ((0, 4, 0, 24), (5, 5, 6, 14)),
          "L3": ((0, 4, 6, 22),), "L4": ((0, 6, 0, 24),)}
EPISODES = {"drift": (240, 720), "spikes": (30, 150), "stuck": (60, 300)}  # length range [min]


def _walk(rng, shape, scale):
    """Random walks along the time axis, scaled so that they wander about ±scale over the period."""
    steps = rng.standard_normal(shape, dtype=np.float32)
    return np.cumsum(steps, axis=-1) * np.float32(scale / np.sqrt(shape[-1]))


def _episodes(mask, rng, count, lengths, minutes):
    """Set ``count`` episodes of random length in ``lengths`` in each row of ``mask``."""
    for row in mask:
        length = rng.integers(*lengths, size=count)
        start = rng.integers(0, np.maximum(minutes - length, 1))
        for s, n in zip(start, length):
            row[s:s + n] = True


def _schedule(lines, minutes, rng):
    """(machines, minutes) bool: when each machine is scheduled to run."""
    minute = np.arange(minutes)
    hour, weekday = (minute % 1440) / 60, (minute // 1440) % 7
    by_line = {}
    for line, shifts in SHIFTS.items():
        on = np.zeros(minutes, bool)
        for first, last, start, stop in shifts:
            on |= (weekday >= first) & (weekday <= last) & (hour >= start) & (hour < stop)
        by_line[line] = on
    running = np.stack([by_line[line] for line in lines])
    stops = np.zeros_like(running)
    weeks = max(1, minutes // (7 * 1440))
    _episodes(stops, rng, 3 * weeks, (20, 90), minutes)  # planned stops: changeovers, cleaning
    _episodes(stops, rng, 1, (240, 1440), minutes)  # one maintenance outage per machine
    return running & ~stops


def _faults(n_machines, minutes, rng):
    """(machines, minutes) fault mask and the episodes [(machine, start, stop, kind)]."""
    wear = rng.uniform(0.4, 1.6, n_machines)
    budget = FAULT_SHARE * minutes * wear / wear.mean()
    kinds = list(EPISODES)
    mask, episodes = np.zeros((n_machines, minutes), bool), []
    for machine in range(n_machines):
        count = max(1, round(budget[machine] / 250))
        kind = rng.choice(len(kinds), count, p=[0.4, 0.35, 0.25])
        length = np.array([rng.integers(*EPISODES[kinds[k]]) for k in kind], float)
        length = np.maximum(10, np.round(length * budget[machine] / length.sum())).astype(int)
        slot = minutes // count
        length = np.minimum(length, slot - 1)
        for n, (k, size) in enumerate(zip(kind, length)):
            start = n * slot + int(rng.integers(0, slot - size + 1))
            mask[machine, start:start + size] = True
            episodes.append((machine, start, start + size, kinds[k]))
    return mask, episodes


def _signals(models, lines, active, rng, minutes):
    """Sensor signals (machines, minutes), float64, before faults and dirt."""
    n = len(models)
    spec = np.array([MODELS[m][1:] for m in models])  # rated, limit, heat, vibration
    rated, heat, vib = spec[:, 0:1], spec[:, 2:3], spec[:, 3:4]
    minute = np.arange(minutes)
    hour, weekday = (minute % 1440) / 60, (minute // 1440) % 7
    line_index = np.array([LINES.index(line) for line in lines])
    hall = (21 + 2.5 * np.sin(2 * np.pi * (hour - 9) / 24) - 1.5 * (weekday >= 5))[None, :] \
        + 1.5 * _walk(rng, (len(LINES), minutes), 1.0)[line_index]
    load = np.clip(0.7 + 0.12 * np.sin(2 * np.pi * (hour - 8) / 24)[None, :]
                   + 0.05 * _walk(rng, (n, minutes), 1.0) + 0.03 * rng.standard_normal((n, minutes)), 0.2, 1.0)
    ran = np.cumsum(active, axis=1, dtype=np.float32)  # warm-up and cool-down over ~40 minutes
    warm = (ran - np.pad(ran, ((0, 0), (40, 0)))[:, :minutes]) / 40

    def noise(sd):
        return sd * rng.standard_normal((n, minutes), dtype=np.float32)

    temperature = hall + warm * heat * (0.6 + 0.4 * load) + 1.5 * _walk(rng, (n, minutes), 1.0) + noise(0.2)
    vibration = np.where(active, vib * (0.75 + 0.5 * load) * np.exp(0.15 * _walk(rng, (n, minutes), 1.0))
                         + noise(0.05), 0.03 + np.abs(noise(0.02)))
    pressure = np.where(active, rng.uniform(5.5, 6.5, (n, 1)) + 0.4 * load
                        + 0.15 * _walk(rng, (n, minutes), 1.0) + noise(0.03), 1.0 + noise(0.02))
    current = np.where(active, rated * (0.3 + 0.55 * load) * (1 + 0.03 * _walk(rng, (n, minutes), 1.0))
                       + noise(0.3), 0.2 + np.abs(noise(0.05)))
    return {"temperature": temperature, "vibration_rms": np.abs(vibration),
            "pressure": pressure, "motor_current": np.abs(current)}


def _inject(signals, episodes, rng):
    for machine, start, stop, kind in episodes:
        size = stop - start
        if kind == "drift":
            ramp = np.linspace(0, 1, size)
            signals["temperature"][machine, start:stop] += ramp * rng.uniform(15, 25)
            signals["vibration_rms"][machine, start:stop] *= 1 + ramp * rng.uniform(1, 2)
        elif kind == "spikes":
            at = start + rng.choice(size, max(1, size * 15 // 100), replace=False)
            signals["vibration_rms"][machine, at] *= rng.uniform(4, 8, at.size)
            signals["motor_current"][machine, at] *= rng.uniform(1.3, 1.6, at.size)
        else:  # stuck: the sensor repeats its last good value
            sensor = SENSORS[rng.integers(len(SENSORS))]
            signals[sensor][machine, start:stop] = signals[sensor][machine, start]
    for sensor, (low, high) in VALID_RANGES.items():  # faults stay physically possible
        np.clip(signals[sensor], low, high, out=signals[sensor])


def _dirty_rows(columns, minute, machine, rng):
    """Missing values, glitches, late and duplicated rows; returns the rows in arrival order."""
    rows = minute.size
    for sensor in SENSORS:
        columns[sensor][rng.random(rows) < DIRT["missing"]] = np.nan
    lost = rng.random(rows) < DIRT["missing_reading"]
    for sensor in SENSORS:
        columns[sensor][lost] = np.nan
    glitch = np.flatnonzero(rng.random(rows) < DIRT["glitch"])
    which = rng.integers(len(SENSORS), size=glitch.size)
    for k, sensor in enumerate(SENSORS):
        at = glitch[which == k]
        columns[sensor][at] = rng.choice(GLITCHES[sensor], at.size)
    arrival = minute.copy()
    late = rng.random(rows) < DIRT["late"]
    arrival[late] += rng.integers(1, 31, late.sum())
    dup = np.flatnonzero(rng.random(rows) < DIRT["duplicate"])
    index = np.concatenate([np.arange(rows), dup])
    arrival = np.concatenate([arrival, arrival[dup] + rng.integers(0, 16, dup.size)])
    order = np.lexsort((machine[index], arrival))  # stable: an immediate re-send follows its original
    return index[order], arrival[order]


def _register(ids, lines, models, rng):
    """The asset register: all machines but the unregistered ones, plus one decommissioned."""
    n = len(ids)
    missing = set(rng.choice(n, max(1, n // 24), replace=False).tolist())
    keep = [i for i in range(n) if i not in missing]
    width = len(ids[0]) - 1
    gone = f"M{n + 1:0{width}d}"
    days = rng.integers(0, 12 * 365, n + 1)
    installed = np.datetime64("2012-01-01") + days.astype("timedelta64[D]")
    table = {
        "machine_id": [ids[i] for i in keep] + [gone],
        "line": [lines[i] for i in keep] + [lines[-1]],
        "model": [models[i] for i in keep] + [LINE_MODELS[lines[-1]][0]],
    }
    table["vendor"] = [MODELS[m][0] for m in table["model"]]
    table["installed"] = pa.array(np.concatenate([installed[keep], installed[-1:]]).astype("datetime64[D]"))
    table["rated_current"] = [MODELS[m][1] for m in table["model"]]
    table["temperature_limit"] = [MODELS[m][2] for m in table["model"]]
    return pa.table(table)


def generate(out_dir, *, machines: int = 48, days: int = 60, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write readings.parquet/, readings-sample.csv and machines.parquet under ``out_dir``.

    Returns their paths by name ("readings", "sample", "machines"). An existing copy is replaced;
    readings.parquet appears last, so its presence means the set is complete.
    """
    if machines < 1 or days < 1:
        raise ValueError(f"need at least one machine and one day (got {machines} machines, {days} days)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    minutes = days * 1440
    width = max(2, len(str(machines + 1)))
    ids = [f"M{i + 1:0{width}d}" for i in range(machines)]
    lines = [LINES[i * len(LINES) // machines] for i in range(machines)]
    models = [LINE_MODELS[line][int(rng.random() < 0.35)] for line in lines]

    scheduled = _schedule(lines, minutes, rng)
    fault, episodes = _faults(machines, minutes, rng)
    active = scheduled | fault
    signals = _signals(models, lines, active, rng, minutes)
    _inject(signals, episodes, rng)
    state = np.where(fault, 2, np.where(active, 0, 1)).astype(np.int8)

    # (machines, minutes) -> rows in time order, machines in order within a minute
    minute = np.repeat(np.arange(minutes), machines)
    machine = np.tile(np.arange(machines), minutes)
    columns = {s: np.round(signals[s].T.ravel(), RESOLUTION[s]) for s in SENSORS}
    index, arrival = _dirty_rows(columns, minute, machine, rng)

    ids_arr, lines_arr = np.array(ids), np.array(lines)
    table = pa.table({
        "timestamp": pa.array((START + minute[index]).astype("datetime64[us]")),
        "machine_id": pa.array(ids_arr[machine[index]]),
        "line": pa.array(lines_arr[machine[index]]),
        **{s: pa.array(columns[s][index].astype(np.float32)) for s in SENSORS},
        "state": pa.array(STATES[state.T.ravel()[index]]),
    })

    readings, staging = out / "readings.parquet", out / "readings.parquet.partial"
    shutil.rmtree(readings, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    chunk = np.minimum(arrival, minutes - 1) // (DAYS_PER_FILE * 1440)  # late rows at the end: last file
    row_line = lines_arr[machine[index]]
    for line in dict.fromkeys(lines):
        for part in np.unique(chunk[row_line == line]):
            rows = np.flatnonzero((row_line == line) & (chunk == part))
            target = staging / f"line={line}" / f"part-{part:02d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table.take(rows).drop_columns(["line"]), target, compression="snappy")

    sample = table.slice(0, SAMPLE_ROWS)
    stamps = pc.strftime(sample["timestamp"].cast(pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
    pa_csv.write_csv(sample.set_column(0, "timestamp", stamps), out / "readings-sample.csv",
                     pa_csv.WriteOptions(quoting_style="needed"))
    pq.write_table(_register(ids, lines, models, rng), out / "machines.parquet", compression="snappy")
    staging.rename(readings)
    return {"readings": readings, "sample": out / "readings-sample.csv", "machines": out / "machines.parquet"}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """Command line: write the synthetic sensor data set into ``--out``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the files into")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full",
                        help="ci: 16 machines × 7 days; full (default): 48 machines × 60 days")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--machines", type=int, help="override the scale's number of machines")
    parser.add_argument("--days", type=int, help="override the scale's number of days")
    args = parser.parse_args(argv)
    size = {**SCALES[args.scale], **{k: v for k, v in (("machines", args.machines), ("days", args.days)) if v}}
    started = time.perf_counter()
    paths = generate(args.out, seed=args.seed, **size)
    meta = pq.ParquetDataset(paths["readings"]).files
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in meta)
    days = f"{size['days']} day{'s' if size['days'] != 1 else ''}"
    print(f"{size['machines']} machines × {days}, seed {args.seed}: {rows:,} rows "
          f"in {time.perf_counter() - started:.1f} s")
    for name, path in paths.items():
        print(f"  {name:9s} {path}  ({_size(path):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
