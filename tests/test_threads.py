"""tui_lab.threads: parsing --threads, the auto rule on injected readings, cgroup/proc parsing, apply."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from typer.testing import CliRunner

from tui_lab.errors import ConfigError
from tui_lab.threads import (
    SAMPLE_SECONDS,
    CpuMonitor,
    CpuSample,
    SystemProbe,
    ThreadChoice,
    apply_threads,
    cgroup_cpu_quota,
    choose_threads,
    decide,
    parse_threads,
)

# --- parse ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["auto", " AUTO ", None])
def test_parse_auto_is_none(value):
    assert parse_threads(value) is None


@pytest.mark.parametrize("value,expected", [("1", 1), (" 4 ", 4), (3, 3), ("1024", 1024)])
def test_parse_whole_numbers(value, expected):
    assert parse_threads(value) == expected


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two", "", True, 2.0, 0, "1025", "4 threads"])
def test_parse_errors_name_the_field_on_one_line(value):
    with pytest.raises(ConfigError) as info:
        parse_threads(value)
    assert info.value.field == "threads"
    assert str(info.value).startswith("threads: must be auto or a whole number from 1 to 1024")
    assert "\n" not in str(info.value)


# --- the rule on plain readings ---------------------------------------------------------------------

@pytest.mark.parametrize("others,expected", [(0.0, 2), (0.3, 2), (0.5, 1), (0.7, 1), (1.0, 1), (2.0, 1)])
def test_two_cpus_give_one_up_when_others_use_half_of_one(others, expected):
    assert decide(None, 2, None, None, others).threads == expected


def test_many_cpus_leave_what_others_use():
    c = decide(None, 16, None, None, 3.2)
    assert c.threads == 13 and c.cpus == 16 and c.others_busy == 3.2
    assert "3.2 CPUs busy" in c.reason and "13 threads" in c.reason


def test_quota_caps_usable_cpus_rounded_up():
    c = decide(None, 64, 1.5, None, 0.0)
    assert (c.threads, c.cpus) == (2, 2) and "cgroup quota 1.5" in c.reason
    assert decide(None, 4, 8.0, None, 0.0).threads == 4  # a quota above the affinity changes nothing


def test_omp_num_threads_caps_auto():
    c = decide(None, 8, None, 3, 0.0)
    assert c.threads == 3 and "OMP_NUM_THREADS=3" in c.reason


def test_hyperthread_siblings_do_not_add_threads():
    c = decide(None, 16, None, None, 0.0, cores=8)
    assert (c.threads, c.cpus) == (8, 16) and "on 8 cores" in c.reason
    assert decide(None, 16, None, None, 9.0, cores=8).threads == 7  # fewer free CPUs than cores


def test_unknown_load_uses_every_usable_cpu():
    c = decide(None, 4, None, None, None)
    assert c.threads == 4 and "load unknown" in c.reason


def test_an_explicit_request_is_honoured_and_flagged_when_too_many():
    assert decide(3, 8, None, 1, 7.0) == ThreadChoice(3, "requested 3", 8, 7.0)
    assert "more than the 2 CPUs" in decide(6, 2, None, None, None).reason


# --- the monitor on injected readings ---------------------------------------------------------------

@dataclass
class FakeProbe:
    """Scripted machine: each sample() pops the next (busy, own) pair; the clock moves only by sleep/step."""

    readings: list
    cpus: int = 2
    quota_value: float | None = None
    omp: int | None = None
    core_count: int | None = None
    clock: float = 0.0
    step: float = 0.0  # seconds the clock moves between one reading and the next (an epoch)
    slept: float = 0.0
    sampled: int = 0

    def affinity(self):
        return list(range(self.cpus))

    def cores(self, cpus):
        return self.core_count

    def quota(self):
        return self.quota_value

    def omp_env(self):
        return self.omp

    def sample(self, cpus):
        if not self.readings:
            return None
        busy, own = self.readings.pop(0)
        self.sampled += 1
        s = CpuSample(busy, own, self.clock)
        self.clock += self.step
        return s

    def sleep(self, seconds):
        self.slept += seconds
        self.clock += seconds


def test_first_choice_samples_once_and_counts_only_other_processes():
    # over the 0.1 s sample the CPUs were busy 0.2 s, 0.1 s of it ours: others keep 1.0 CPU busy
    probe = FakeProbe([(10.0, 5.0), (10.2, 5.1)])
    c = CpuMonitor(probe).choose(None)
    assert probe.slept == SAMPLE_SECONDS
    assert c.others_busy == pytest.approx(1.0) and c.threads == 1


def test_our_own_training_is_not_another_busy_process():
    # both CPUs fully busy, all of it this process: nobody else -> keep both
    probe = FakeProbe([(0.0, 0.0), (0.2, 0.2)])
    assert CpuMonitor(probe).choose(None).threads == 2


def test_recheck_uses_the_window_since_the_last_reading_without_sleeping():
    probe = FakeProbe([(0.0, 0.0), (0.2, 0.1), (4.2, 4.1)])  # then a 2 s epoch of ours alone
    m = CpuMonitor(probe)
    assert m.choose(None).threads == 1
    probe.slept, probe.clock = 0.0, probe.clock + 2.0
    again = m.choose(None)
    assert probe.slept == 0.0
    assert again.others_busy == pytest.approx(0.0) and again.threads == 2


def test_a_box_that_gets_busy_mid_run_drops_to_one_thread():
    # quiet at the start; during a 1 s epoch on 2 threads, others took 0.7 CPU
    probe = FakeProbe([(0.0, 0.0), (0.0, 0.0), (2.0, 1.3)])
    m = CpuMonitor(probe)
    assert m.choose(None).threads == 2
    probe.clock += 1.0
    assert m.choose(None).threads == 1


def test_a_recheck_too_soon_keeps_the_last_estimate():
    probe = FakeProbe([(0.0, 0.0), (0.2, 0.1), (0.2, 0.1)])
    m = CpuMonitor(probe)
    first = m.choose(None)
    probe.clock += 0.01
    assert m.choose(None).others_busy == first.others_busy
    assert probe.slept == SAMPLE_SECONDS  # no second sample window


def test_coarse_ticks_never_give_more_busy_cpus_than_exist():
    probe = FakeProbe([(0.0, 0.0), (0.3, 0.0)])  # 0.3 s busy in 0.1 s on 2 CPUs: tick noise
    assert CpuMonitor(probe).choose(None).others_busy == 2.0


def test_no_proc_stat_means_load_unknown():
    probe = FakeProbe([], cpus=4)
    c = CpuMonitor(probe).choose(None)
    assert c.threads == 4 and c.others_busy is None


def test_an_explicit_request_takes_no_sample():
    probe = FakeProbe([(0.0, 0.0)], cpus=2)
    assert choose_threads(5, monitor=CpuMonitor(probe)).threads == 5
    assert probe.sampled == 0 and probe.slept == 0.0


def test_quota_and_env_from_the_probe_are_used():
    probe = FakeProbe([(0.0, 0.0), (0.0, 0.0)], cpus=8, quota_value=4.0, omp=3)
    c = CpuMonitor(probe).choose(None)
    assert c.threads == 3 and c.cpus == 4


# --- reading the machine's files (a fake root) -----------------------------------------------------

def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_takes_the_tightest_quota_up_the_tree(tmp_path):
    _write(tmp_path / "proc/self/cgroup", "0::/a/b\n")
    _write(tmp_path / "sys/fs/cgroup/a/b/cpu.max", "max 100000\n")
    _write(tmp_path / "sys/fs/cgroup/a/cpu.max", "250000 100000\n")
    _write(tmp_path / "sys/fs/cgroup/cpu.max", "800000 100000\n")
    assert cgroup_cpu_quota(tmp_path) == 2.5


def test_cgroup_v1_quota_and_no_limit(tmp_path):
    _write(tmp_path / "proc/self/cgroup", "4:cpu,cpuacct:/job\n3:memory:/job\n")
    _write(tmp_path / "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "50000\n")
    _write(tmp_path / "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n")
    _write(tmp_path / "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
    _write(tmp_path / "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_quota(tmp_path) == 0.5
    _write(tmp_path / "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "-1\n")
    assert cgroup_cpu_quota(tmp_path) is None
    assert cgroup_cpu_quota(tmp_path / "nowhere") is None


def test_cores_count_distinct_physical_cores_of_our_cpus(tmp_path):
    for cpu, core in [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2)]:
        _write(tmp_path / f"sys/devices/system/cpu/cpu{cpu}/topology/core_id", f"{core}\n")
        _write(tmp_path / f"sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id", "0\n")
    probe = SystemProbe(root=str(tmp_path))
    assert probe.cores([0, 1, 2, 3]) == 2 and probe.cores([0, 2, 4]) == 3
    assert probe.cores([0, 9]) is None  # no topology for cpu9: unknown


def test_proc_stat_sums_busy_fields_of_our_cpus_only(tmp_path):
    _write(tmp_path / "proc/stat", "cpu  900 0 900 900 0 0 0 0 0 0\n"
                                   "cpu0 100 5 20 1000 50 1 2 3 0 0\n"
                                   "cpu1 400 0 40 1000 0 0 0 0 0 0\n"
                                   "cpu2 7 0 0 9 0 0 0 0 0 0\nintr 1 2 3\n")
    probe = SystemProbe(root=str(tmp_path), environ={"OMP_NUM_THREADS": "3"})
    s = probe.sample([0, 1])
    # user+nice+system+irq+softirq+steal, not idle/iowait, not cpu2, not the "cpu" total line
    assert s.busy == pytest.approx((100 + 5 + 20 + 1 + 2 + 3 + 400 + 40) * probe._tick)
    assert probe.omp_env() == 3
    assert SystemProbe(root=str(tmp_path), environ={"OMP_NUM_THREADS": "x"}).omp_env() is None
    assert SystemProbe(root=str(tmp_path / "none")).sample([0]) is None


def test_the_real_machine_gives_a_choice_within_its_cpus():
    c = choose_threads(None, monitor=CpuMonitor())
    assert 1 <= c.threads <= max(1, c.cpus) and c.reason.startswith("auto: ")


# --- apply -----------------------------------------------------------------------------------------

@pytest.fixture
def torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_apply_sets_torch_intra_op_threads(torch_threads):
    torch.set_num_threads(2)
    assert apply_threads(1) is True and torch.get_num_threads() == 1
    assert apply_threads(1) is False and torch.get_num_threads() == 1
    assert apply_threads(3) is True and torch.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -2, True, "2", 1.0])
def test_apply_rejects_what_is_not_a_thread_count(bad, torch_threads):
    with pytest.raises(ConfigError, match="^threads: "):
        apply_threads(bad)


# --- CLI -------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("command", ["train", "compare"])
def test_cli_bad_threads_exit_2_with_one_line(command):
    from tui_lab.cli import app

    r = runner.invoke(app, [command, "--threads", "0", "--epochs", "1"])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == ["error: threads: must be auto or a whole number from 1 to 1024, got '0'"]


def test_threads_option_applies_now_and_returns_the_config_value(torch_threads):
    from tui_lab.commands._common import threads_option

    torch.set_num_threads(2)
    assert threads_option("1") == 1 and torch.get_num_threads() == 1
    assert threads_option("auto") == "auto" and 1 <= torch.get_num_threads() <= 1024
    with pytest.raises(ConfigError, match="^threads: "):
        threads_option("-3")


@pytest.mark.parametrize("command", ["train", "compare"])
def test_cli_threads_reach_the_run_config(command, torch_threads):

    from tui_lab.cli import app
    from tui_lab.runs import RunStore

    args = [command, "--model", "softmax", "--epochs", "1", "--device", "cpu", "--threads", "1", "--json"]
    if command == "compare":
        args[1:1] = ["--optimizers", "sgd"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert torch.get_num_threads() == 1
    runs = RunStore().list_runs()
    assert runs and all(r.config["threads"] == 1 for r in runs)


def test_doctor_shows_the_choice_and_why():
    import json

    from tui_lab.cli import app

    r = runner.invoke(app, ["doctor", "--json"])
    assert r.exit_code == 0
    t = json.loads(r.stdout)["threads"]
    assert 1 <= t["threads"] <= t["cpus"] and t["reason"].startswith("auto: ") and t["torch_default"] >= 1
    plain = runner.invoke(app, ["doctor"])
    assert "for training (--threads auto" in plain.output
