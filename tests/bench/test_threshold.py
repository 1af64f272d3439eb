"""The threshold benchmark runs at a small size (its figures are not asserted, only its work)."""
from __future__ import annotations

from bench import bench_threshold
from bench.__main__ import FULL, QUICK, rows_for


def test_key_generation_benchmark_reports_cpu_per_trustee():
    figures = bench_threshold.bench_keygen(4, 3)
    assert set(figures) == {"keygen_4_3_max_cpu_s", "keygen_4_3_mean_cpu_s"}
    assert figures["keygen_4_3_max_cpu_s"] >= figures["keygen_4_3_mean_cpu_s"] > 0


def test_tally_benchmark_decrypts_with_three_of_five():
    figures = bench_threshold.bench_tally(300, 1, decrypting=(2, 4, 5))
    assert set(figures) == {"threshold_tally_300_s", "threshold_tally_300_decrypt_s"}


def test_rows_name_the_targets_of_the_full_run():
    full = {r.key: r for r in rows_for(FULL) if r.benchmark == "threshold"}
    assert full["keygen_9_5_max_cpu_s"].target == "< 2 s"
    assert full["threshold_tally_1000000_s"].target == "< 60 s"
    quick = [r.label for r in rows_for(QUICK) if r.benchmark == "threshold"]
    assert all("1,000,000" not in label for label in quick)
