"""Thread counts follow the CPUs this process may use, not the machine's count."""

from __future__ import annotations

from engine import cpus


def test_a_quota_caps_the_visible_cpus():
    assert cpus.count(16, 16, 2.0) == 2
    assert cpus.count(16, 16, 1.5) == 2  # a part-CPU still gets its own thread
    assert cpus.count(16, 4, None) == 4  # the affinity mask (taskset, cpuset)
    assert cpus.count(2, 2, 8.0) == 2
    assert cpus.count(None, None, None) == 1


def test_cgroup_v2_quota_is_the_least_up_to_the_root(tmp_path, monkeypatch):
    monkeypatch.setattr(cpus, "CGROUP", tmp_path)
    child = tmp_path / "ci" / "job"
    child.mkdir(parents=True)
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "ci" / "cpu.max").write_text("200000 100000\n")
    (child / "cpu.max").write_text("max 100000\n")
    assert cpus._quota_v2(child) == 2.0
    (child / "cpu.max").write_text("50000 100000\n")
    assert cpus._quota_v2(child) == 0.5
    (child / "cpu.max").write_text("garbage\n")
    assert cpus._quota_v2(child) == 2.0


def test_cgroup_v1_quota(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cpus._quota_v1(tmp_path) is None
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    assert cpus._quota_v1(tmp_path) == 3.0


def test_quarry_threads_overrides(monkeypatch):
    cpus.usable.cache_clear()
    monkeypatch.setenv("QUARRY_THREADS", "3")
    try:
        assert cpus.usable() == 3
        from engine.runtime.llama import default_threads

        assert default_threads() == 3
    finally:
        monkeypatch.delenv("QUARRY_THREADS")
        cpus.usable.cache_clear()


def test_cgroup_v1_quota_of_the_process_own_group(tmp_path):
    own = tmp_path / "cpu" / "ci" / "job"
    own.mkdir(parents=True)
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (own / "cpu.cfs_period_us").write_text("100000\n")
    (own / "cpu.cfs_quota_us").write_text("200000\n")
    assert cpus._quota_v1(tmp_path, "ci/job") == 2.0
    assert cpus._quota_v1(tmp_path, "elsewhere") is None  # no such group: the root's, which has none
