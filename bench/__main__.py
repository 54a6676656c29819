"""`python -m bench` lists the benchmarks; `python -m bench NAME [args]` runs one with those arguments."""
import runpy
import sys

BENCHES = {
    "flow": "the engine at low d: Q-flow vs its warm start alone, 2-D toys and Gaussians d = 2/8/32",
    "highdim": "the engine at d = 16…128: Q-flow vs warm start vs OT-CFM (TorchCFM), known OT maps",
    "dre": "density ratios, mutual information, digits energy density",
    "images": "latent image translation judged by a digit classifier",
    "app": "the app: first paint, UI vs direct training speed, animation build",
    "distributed": "torchrun: N processes vs 1 with the same global batch, steps/s and wall time (d = 64)",
    "app_load": "the app under load: a fresh session's page render with 5 sessions training, against idle",
    "csv_load": "a 190 MB CSV upload: seconds and peak memory of load_samples against the file's size",
}
QUICK = "python -m bench highdim --cases gauss16 map16 --seeds 0 --budget 10 --threads 1 --out /tmp/highdim.md"

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHES:
        print("Benchmarks (each prints its tables; results are kept in bench/results/; add --help for options):\n")
        for name, what in BENCHES.items():
            print(f"  python -m bench.{name:<8} {what}")
        print(f"\nRun one through here with its arguments, e.g. a quick high-dimensional check (≈ 4 min):\n  {QUICK}")
        sys.exit(0 if len(sys.argv) < 2 else 2)
    name = sys.argv.pop(1)
    sys.argv[0] = f"bench.{name}"
    runpy.run_module(f"bench.{name}", run_name="__main__", alter_sys=True)
