"""notebooks/data/make_sensor_data.py: the sensor readings' shape, dirt and determinism, at a tiny size."""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ds = pytest.importorskip("pyarrow.dataset")

SCRIPT = Path(__file__).resolve().parents[2] / "notebooks" / "data" / "make_sensor_data.py"
_spec = importlib.util.spec_from_file_location("make_sensor_data", SCRIPT)
make_sensor_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_sensor_data)

MACHINES, DAYS = 8, 2
READINGS = MACHINES * DAYS * 1440
COLUMNS = ["timestamp", "machine_id", "line", "temperature", "vibration_rms", "pressure", "motor_current", "state"]


def read_readings(path: Path):
    """All partitions as one table, line from the folder names, columns in the catalogue's order."""
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    return table.select(COLUMNS)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sensors")
    paths = make_sensor_data.generate(out, machines=MACHINES, days=DAYS, seed=3)
    return paths, read_readings(paths["readings"])


def distinct_keys(table) -> set[tuple[str, int]]:
    stamps = table["timestamp"].cast(pa.int64()).to_pylist()
    return set(zip(table["machine_id"].to_pylist(), stamps))


def test_files_columns_and_types(generated):
    paths, table = generated
    assert set(paths) == {"readings", "sample", "machines"}
    assert paths["readings"].name == "readings.parquet" and paths["readings"].is_dir()
    types = dict(zip(table.schema.names, table.schema.types))
    assert types["timestamp"] == pa.timestamp("us")
    assert all(types[c] == pa.float32() for c in ("temperature", "vibration_rms", "pressure", "motor_current"))
    assert types["machine_id"] == pa.string() and types["state"] == pa.string()
    assert set(table["state"].to_pylist()) == {"running", "idle", "fault"}


def test_one_reading_per_machine_and_minute_plus_resent_duplicates(generated):
    _, table = generated
    assert len(distinct_keys(table)) == READINGS
    duplicates = table.num_rows - READINGS
    assert 0.001 * READINGS < duplicates < 0.006 * READINGS  # DIRT["duplicate"] = 0.3 %
    first = table["timestamp"].cast(pa.int64()).to_numpy().min()
    assert np.datetime64(int(first), "us") == make_sensor_data.START.astype("datetime64[us]")


def test_partitioned_by_line_with_the_machines_spread_over_four_lines(generated):
    paths, table = generated
    folders = sorted(p.name for p in paths["readings"].iterdir())
    assert folders == ["line=L1", "line=L2", "line=L3", "line=L4"]
    for folder in paths["readings"].iterdir():
        for part in folder.glob("*.parquet"):
            assert "line" not in pq.read_schema(part).names  # the folder carries it
            assert pq.ParquetFile(part).metadata.row_group(0).column(0).compression == "SNAPPY"
    pairs = set(zip(table["machine_id"].to_pylist(), table["line"].to_pylist()))
    assert len(pairs) == MACHINES  # every machine on exactly one line
    assert sorted({line for _, line in pairs}) == ["L1", "L2", "L3", "L4"]


def test_fault_share_is_about_one_and_a_half_percent(generated):
    _, table = generated
    state = np.array(table["state"].to_pylist())
    assert 0.01 < (state == "fault").mean() < 0.02
    assert (state == "running").mean() > 0.3 and (state == "idle").mean() > 0.05


def test_dirt_is_there_for_the_cleaning_lesson(generated):
    _, table = generated
    for sensor in make_sensor_data.VALID_RANGES:
        values = table[sensor].to_numpy(zero_copy_only=False).astype(float)
        assert np.isnan(values).sum() > 0, f"{sensor}: no missing values"
    glitches = sum(int(((v < lo) | (v > hi)).sum()) for v, (lo, hi) in (
        (table[s].to_numpy(zero_copy_only=False), r) for s, r in make_sensor_data.VALID_RANGES.items()))
    assert 0 < glitches < 0.002 * table.num_rows
    stamps = table["timestamp"].cast(pa.int64()).to_numpy()
    lines = np.array(table["line"].to_pylist())
    assert any((np.diff(stamps[lines == line]) < 0).any() for line in ("L1", "L2", "L3", "L4")), \
        "no late rows: the file should not be in time order"


def test_fault_signals_stay_inside_the_valid_ranges(generated):
    _, table = generated
    fault = np.array(table["state"].to_pylist()) == "fault"
    for sensor, (low, high) in make_sensor_data.VALID_RANGES.items():
        values = table[sensor].to_numpy(zero_copy_only=False)[fault]
        glitch_free = values[np.isin(values, make_sensor_data.GLITCHES[sensor], invert=True)]
        assert (((glitch_free >= low) & (glitch_free <= high)) | np.isnan(glitch_free)).all()


def test_sample_csv_is_the_first_rows_in_file_order(generated):
    paths, table = generated
    with paths["sample"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == make_sensor_data.SAMPLE_ROWS
    assert rows[0]["timestamp"] == "2025-01-06T00:00:00"
    minutes = [np.datetime64(r["timestamp"], "m") for r in rows]
    assert max(minutes) - min(minutes) < np.timedelta64(2 * 20_000 // MACHINES, "m")  # the earliest readings
    by_key = {(m, s): i for i, (m, s) in enumerate(zip(table["machine_id"].to_pylist(),
                                                          table["timestamp"].cast(pa.int64()).to_pylist()))}
    for row in rows[:500]:
        stamp = int(np.datetime64(row["timestamp"], "us").astype(np.int64))
        i = by_key[(row["machine_id"], stamp)]
        assert table["line"][i].as_py() == row["line"] and table["state"][i].as_py() == row["state"]


def test_register_misses_a_machine_and_keeps_a_decommissioned_one(generated):
    paths, table = generated
    register = pq.read_table(paths["machines"])
    assert register.schema.names == ["machine_id", "line", "model", "vendor", "installed", "rated_current",
                                     "temperature_limit"]
    assert register.schema.field("installed").type == pa.date32()
    listed, seen = set(register["machine_id"].to_pylist()), set(table["machine_id"].to_pylist())
    assert len(seen - listed) == 1  # one per 24 machines, at least one
    assert len(listed - seen) == 1  # decommissioned
    assert all(current > 0 for current in register["rated_current"].to_pylist())


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    first = make_sensor_data.generate(tmp_path / "a", machines=4, days=1, seed=11)
    again = make_sensor_data.generate(tmp_path / "b", machines=4, days=1, seed=11)
    other = make_sensor_data.generate(tmp_path / "c", machines=4, days=1, seed=12)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first["sample"].read_bytes() == again["sample"].read_bytes() != other["sample"].read_bytes()


def test_regenerating_replaces_the_old_copy(tmp_path):
    make_sensor_data.generate(tmp_path, machines=8, days=2, seed=1)
    make_sensor_data.generate(tmp_path, machines=4, days=1, seed=1)
    table = read_readings(tmp_path / "readings.parquet")
    assert len(distinct_keys(table)) == 4 * 1440
    assert not (tmp_path / "readings.parquet.partial").exists()


def test_command_line(tmp_path, capsys):
    assert make_sensor_data.main(["--out", str(tmp_path), "--scale", "ci", "--machines", "4", "--days", "1"]) == 0
    printed = capsys.readouterr().out
    assert "4 machines × 1 day, seed 7" in printed and "readings.parquet" in printed
    assert make_sensor_data.SCALES["full"] == {"machines": 48, "days": 60}
    assert make_sensor_data.SCALES["ci"]["machines"] * make_sensor_data.SCALES["ci"]["days"] * 1440 <= 200_000


def test_refuses_an_empty_plant(tmp_path):
    with pytest.raises(ValueError, match="at least one machine"):
        make_sensor_data.generate(tmp_path, machines=0, days=1)
