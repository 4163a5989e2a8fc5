"""Benchmark: step-by-step conv frames and the ConvScreen redraw at 28x28, against the 16 ms budget.

    python bench/conv_frames.py [--reps 20]

For a 28x28 input (integers 0..9, seed 0) with a 3x3 kernel and padding 1, per mode:
  compute  `build_config` + `conv_steps.compute`: the output, frames built as they are read,
  all      the same with all 784 frames built (the CLI's `--frames all`),
  redraw   `ConvScreen.refresh_view()` for one step (all renderables rebuilt), median over steps,
  paint    one step drawn: `refresh_view` plus a full repaint of the 80x24 screen (an upper bound:
           Textual repaints only the regions that changed),
Times are CPU time of the benchmark's thread (`time.thread_time`), medians, so other jobs on a shared
machine do not inflate them. It prints `(compute + paint) / 16 ms`: the share of one 60 Hz frame a parameter change costs
(below 1.0 meets the budget). The baseline measured in the same run is one `F.conv2d` call on the
same input; `compute / conv2d` says how much slower the teaching path (one Python object per
product) is than torch's kernel that computes the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

BUDGET_MS = 16.0
SPEC = {"input": "random:1x28x28", "kernel": "sobel-x", "padding": 1, "seed": 0}
MODES = ("conv", "max", "avg", "transposed")


def ms(seconds: float) -> float:
    return seconds * 1000.0


# CPU time of this thread: steady on a shared machine where wall time swings with other jobs.
clock = time.thread_time


def time_median(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def spec_for(mode: str) -> dict:
    if mode in ("max", "avg"):
        return {"mode": mode, "input": SPEC["input"], "kernel": 3, "stride": 1, "padding": 1}
    if mode == "transposed":
        return {"mode": mode, "input": SPEC["input"], "kernel": "sobel-x", "padding": 1}
    return dict(SPEC)


def bench_compute(reps: int) -> dict[str, float]:
    from tui_lab import conv_steps as cs

    return {mode: time_median(lambda m=mode: cs.compute(cs.build_config(spec_for(m))), reps) for mode in MODES}


def bench_all_frames(reps: int) -> dict[str, float]:
    """Every frame built (what `dllab conv --frames all --json` needs)."""
    from tui_lab import conv_steps as cs

    return {mode: time_median(lambda m=mode: list(cs.compute(cs.build_config(spec_for(m))).frames), reps)
            for mode in MODES}


def bench_conv2d(reps: int) -> float:
    import torch
    import torch.nn.functional as F

    from tui_lab import conv_steps as cs

    torch.set_num_threads(1)  # one thread, like the Python path it is compared with

    cfg = cs.build_config(SPEC)
    x = torch.tensor(cs._lists(cfg.input), dtype=torch.float64)[None]
    w = torch.tensor(cs._lists(cfg.kernel), dtype=torch.float64)
    F.conv2d(x, w, padding=1)  # warm up
    return time_median(lambda: F.conv2d(x, w, padding=1), reps)


async def bench_screen(mode: str, steps: int) -> tuple[float, float]:
    from textual.app import App

    from tui_lab.ui.screens.conv import ConvScreen

    class BenchApp(App):
        def on_mount(self) -> None:
            self.push_screen(ConvScreen(preset=spec_for(mode)))

    app = BenchApp()
    redraws, paints = [], []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()
        await pilot.pause()
        n = len(screen.result.frames)
        for k in range(steps):
            screen.index = (k * 97) % n  # spread over the whole input, scrolling included
            t0 = clock()
            screen.refresh_view()
            t1 = clock()
            app.screen._compositor.render_update(full=True)  # repaint the whole 80x24 screen
            t2 = clock()
            redraws.append(t1 - t0)
            paints.append(t2 - t0)
            await pilot.pause()
    return statistics.median(redraws), statistics.median(paints)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()

    compute = bench_compute(args.reps)
    every = bench_all_frames(max(3, args.reps // 4))
    conv2d = bench_conv2d(max(args.reps, 100))
    print(f"28x28 input, 3x3 kernel, padding 1; CPU-time medians of {args.reps} runs; budget {BUDGET_MS:.0f} ms")
    print(f"baseline: one F.conv2d call = {ms(conv2d):.3f} ms")
    print(f"{'mode':<11}{'frames':>7}{'compute ms':>12}{'all ms':>8}{'redraw ms':>11}{'paint ms':>10}"
          f"{'(compute+paint)/16ms':>22}{'compute/conv2d':>16}")
    from tui_lab import conv_steps as cs

    for mode in MODES:
        frames = len(cs.compute(cs.build_config(spec_for(mode))).frames)
        redraw, paint = asyncio.run(bench_screen(mode, 30))
        total = compute[mode] + paint
        print(f"{mode:<11}{frames:>7}{ms(compute[mode]):>12.2f}{ms(every[mode]):>8.2f}{ms(redraw):>11.2f}{ms(paint):>10.2f}"
              f"{ms(total) / BUDGET_MS:>22.2f}{compute[mode] / conv2d:>15.0f}x")


if __name__ == "__main__":
    main()
