"""S3Bucket throughput against raw boto3, and peak memory while streaming a 1 GiB upload.

One moto server runs in its own process on 127.0.0.1 (in-process it would share our GIL).
Each case runs `ROUNDS` times, alternating S3Bucket and raw boto3, and the best time counts.
Targets: S3Bucket ≥ 0.95 × raw boto3 for every case; peak RSS < 200 MB for the 1 GiB upload.
For folders the headline baseline, the one the verdict is against, is raw boto3 with 10
threads (what S3Bucket's max_concurrency=10 amounts to); the plain loop is shown for
reference only. Numbers, not pass/fail: the script exits 0 whatever the verdicts.
Data lives in a temp dir that is deleted at the end.

    .venv/bin/python bench/s3_throughput.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from timing import scratch_home  # noqa: E402

MiB = 2**20
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))  # this kind of machine is noisy: 2 CPUs
BIG_MIB, FILES, FILE_KIB, RSS_MIB = 256, 200, 64, 1024
BUCKET = "bench"

_RSS_CHILD = """
import resource, sys
from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket

def hwm_kib():  # this process's own high-water mark (ru_maxrss may carry the parent's)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

url, path = sys.argv[1:3]
creds = AwsCredentials(aws_access_key_id="bench", aws_secret_access_key="bench",
                       region_name="us-east-1",
                       aws_client_parameters=AwsClientParameters(endpoint_url=url))
bucket = S3Bucket(bucket_name="bench", credentials=creds)
bucket.write_path("warm-up", b"x")  # imports boto3 and opens a connection: the baseline
before = hwm_kib()
bucket.upload_from_path(path, "rss.bin")
print(before, hwm_kib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"moto_server did not start (see {log}); install it: pip install 'moto[server]'")


def make_data(root: Path) -> tuple[Path, Path]:
    big = root / "big.bin"
    with big.open("wb") as fh:
        for _ in range(BIG_MIB):
            fh.write(os.urandom(MiB))
    folder = root / "folder"
    for i in range(FILES):
        sub = folder / f"part-{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:03d}.bin").write_bytes(os.urandom(FILE_KIB * 1024))
    return big, folder


def best_of(fns: list[Callable[[], object]]) -> list[float]:
    """Each function's best time over ROUNDS rounds, run in turn within each round so that
    the server's state and the machine's load drift evenly across them."""
    for fn in fns:
        fn()  # untimed warm-up: connections, thread pools, the server's first-object paths
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(ROUNDS):
        for fn, spent in zip(fns, times, strict=True):
            started = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - started)
    return [min(spent) for spent in times]


def main() -> None:
    home = scratch_home()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    work = Path(tempfile.mkdtemp(prefix="s3-bench-"))
    proc = None
    try:
        proc, url = start_moto(work / "moto.log")
        print(f"moto server {url} (pid {proc.pid}); data in {work}")
        big, folder = make_data(work)
        peak_rss(url, work)  # first, while this process is small: a child starts from its size
        run(url, work, big, folder)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def peak_rss(url: str, work: Path) -> None:
    """Peak RSS of a child process streaming a 1 GiB file to the server."""
    import boto3

    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench").create_bucket(Bucket=BUCKET)
    rss_file = work / "rss.bin"
    with rss_file.open("wb") as fh:
        block = os.urandom(MiB)
        for _ in range(RSS_MIB):
            fh.write(block)
    child = subprocess.run([sys.executable, "-c", _RSS_CHILD, url, str(rss_file)],
                           capture_output=True, text=True, check=True)
    rss_file.unlink()
    before, peak, maxrss = (int(v) * 1024 / 1e6 for v in child.stdout.split())
    verdict = "meets" if max(peak, maxrss) < 200 else "MISSES"
    print(f"peak RSS streaming a {RSS_MIB} MiB upload in a child process: {peak:.0f} MB "
          f"(ru_maxrss {maxrss:.0f} MB; {before:.0f} MB before the upload, boto3 loaded)  "
          f"target < 200 MB: {verdict}")


def run(url: str, work: Path, big: Path, folder: Path) -> None:
    import boto3

    from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket

    creds = AwsCredentials(aws_access_key_id="bench", aws_secret_access_key="bench",
                           region_name="us-east-1",
                           aws_client_parameters=AwsClientParameters(endpoint_url=url))
    bucket = S3Bucket(bucket_name=BUCKET, credentials=creds)
    raw = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    keys = [f"raw-folder/{p.relative_to(folder).as_posix()}" for p in files]
    out = work / "out"

    def raw_folder_up(threads: int) -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda pk: raw.upload_file(str(pk[0]), BUCKET, pk[1]),
                          zip(files, keys, strict=True)))

    def raw_folder_down(threads: int) -> None:
        def one(key: str) -> None:
            target = out / "raw" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            raw.download_file(BUCKET, key, str(target))

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, keys))

    folder_mib = FILES * FILE_KIB / 1024
    # Each case: label, MiB moved, S3Bucket's run, then raw boto3's runs, the headline
    # baseline (the one the verdict is against) first and any reference ones after it.
    cases = [
        (f"upload {BIG_MIB} MiB file", BIG_MIB,
         lambda: bucket.upload_from_path(big, "big.bin"),
         {"upload_file": lambda: raw.upload_file(str(big), BUCKET, "raw-big.bin")}),
        (f"download {BIG_MIB} MiB file", BIG_MIB,
         lambda: bucket.download_object_to_path("big.bin", out / "big.bin"),
         {"download_file": lambda: raw.download_file(BUCKET, "raw-big.bin",
                                                     str(out / "raw-big.bin"))}),
        (f"upload folder {FILES} × {FILE_KIB} KiB", folder_mib,
         lambda: bucket.upload_from_folder(folder, "folder"),
         {"upload_file × 10 threads": lambda: raw_folder_up(10),
          "upload_file loop": lambda: raw_folder_up(1)}),
        (f"download folder {FILES} × {FILE_KIB} KiB", folder_mib,
         lambda: bucket.download_folder_to_path("folder", out / "folder"),
         {"download_file × 10 threads": lambda: raw_folder_down(10),
          "download_file loop": lambda: raw_folder_down(1)}),
    ]
    print(f"\nthroughput in MiB/s, best of {ROUNDS} rounds after one warm-up; the ratio is "
          "raw time / S3Bucket time, the verdict is against the first baseline of each case")
    print(f"{'case':<30} {'S3Bucket':>9} {'raw boto3':>10}  {'baseline':<27} {'ratio':>6}  "
          "target ≥ 0.95")
    headlines: list[tuple[str, float]] = []
    for label, mib, ours, baselines in cases:
        ours_s, *raw_times = best_of([ours, *baselines.values()])
        for index, (name, raw_s) in enumerate(zip(baselines, raw_times, strict=True)):
            ratio = raw_s / ours_s
            if index == 0:
                verdict = "meets" if ratio >= 0.95 else "MISSES"
                headlines.append((label, ratio))
            else:
                verdict = "(reference)"
            print(f"{label:<30} {mib / ours_s:>9.1f} {mib / raw_s:>10.1f}  {name:<27} "
                  f"{ratio:>6.2f}  {verdict}")
            label = ""
    met = [label for label, ratio in headlines if ratio >= 0.95]
    missed = ", ".join(f"{label} ({ratio:.2f})" for label, ratio in headlines if ratio < 0.95)
    print(f"\nverdict: S3Bucket ≥ 0.95 × its headline raw boto3 baseline in {len(met)} of "
          f"{len(headlines)} cases" + (f"; misses: {missed}" if missed else ""))



if __name__ == "__main__":
    main()
