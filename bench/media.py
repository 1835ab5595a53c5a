"""What checking a file costs: content sniffing, image decoding and the thumbnail, per file,
on one core (the hub runs this in a worker thread, off the event loop).

    python -m bench.media [--repeat 20]
"""

from __future__ import annotations

import argparse
import io
import random
import time
from statistics import median

from PIL import Image

from hub.config.model import MediaConfig
from hub.core.media import MediaService


def _photo(width: int, height: int) -> bytes:
    """A noisy photo-like JPEG (noise does not compress, as real photos barely do)."""
    rng = random.Random(7)
    small = Image.frombytes(
        "RGB", (width // 8, height // 8), rng.randbytes(width * height * 3 // 64)
    )
    out = io.BytesIO()
    small.resize((width, height)).save(out, format="JPEG", quality=85)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    service = MediaService(MediaConfig(max_bytes=50 * 1024 * 1024), None, "bench-secret")  # type: ignore[arg-type]
    files = {
        "pdf 4 MiB": b"%PDF-1.7\n" + random.Random(1).randbytes(4 * 1024 * 1024),
        "jpeg 1280x960": _photo(1280, 960),
        "jpeg 4000x3000 (12 MP)": _photo(4000, 3000),
    }
    print(f"{'file':<24} {'bytes':>10} {'median ms':>10} {'max ms':>8}")
    for name, data in files.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            service.check(data, name)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:<24} {len(data):>10} {median(times):>10.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main()
