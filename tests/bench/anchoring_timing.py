"""Re-anchoring speed: ``python -m tests.bench.anchoring_timing [--calls N] [--against REV]``.

Times ``anchoring.reanchor`` on the corpus's own prose: a ~3,000-character provision and a
~30,000-character one (the commentaries' captures joined), quotes of 20-300 characters on word
boundaries, each in two new wordings: one word inside the quote changed (the close-match search
runs and should find the edited words: FUZZY) and the quote cut out (the search runs and finds
nothing: the worst case). The same inputs (fixed seed) for every implementation measured, each
input given to every implementation in turn. Each new wording is a new text, so nothing is cached
between calls (re-anchoring a provision's annotations in one go caches the prepared text).

``--against REV`` also times ``annotations/anchoring.py`` as it was at a git revision, loaded from
``git show`` into a module of its own, e.g. the hand-written Myers/Levenshtein before RapidFuzz:
``--against 326fa3d``. Pure functions, no database: it runs in a few seconds per thousand calls.
"""

import argparse
import importlib.util
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "treaty_app" / "corpus"
WORD = re.compile(r"\w+")


def provision_texts():
    captures = "\n\n".join(path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("0*.txt")))
    riac = (CORPUS / "004_adae101498f390d2.txt").read_text(encoding="utf-8")
    return {"3,000": riac[:3000], "30,000": captures[:30000]}


def cases(text, calls, seed):
    """(selector parts, edited text, edited span, text without the quote) for ``calls`` quotes."""
    rng = random.Random(seed)
    words = [(m.start(), m.end()) for m in WORD.finditer(text)]
    made = []
    while len(made) < calls:
        length = rng.randint(20, 300)
        first = rng.randrange(len(words))
        start = words[first][0]
        ends = [e for _, e in words[first:] if e - start <= length]
        if len(ends) < 3 or ends[-1] - start < 20:
            continue
        end = ends[-1]
        inner = [w for w in words[first + 1 :] if w[1] < end]
        ws, we = inner[len(inner) // 2]
        replacement = "modified" if text[ws:we] != "modified" else "changed"
        edited = text[:ws] + replacement + text[we:]
        span = (start, end - (we - ws) + len(replacement))
        prefix, suffix = text[max(0, start - 32) : start], text[end : end + 32]
        made.append(((text[start:end], prefix, suffix, start), edited, span, text[:start] + text[end:]))
    return made


def load_module(revision):
    source = subprocess.run(
        ["git", "show", f"{revision}:annotations/anchoring.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / f"anchoring_{revision}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(modules, made):
    """Per module: {kind: timings in ms} and how many edited quotes came back FUZZY on the edited words.

    The modules take turns on each input, so that load from other processes on the machine
    falls on all of them alike.
    """
    timings = {name: {"edited": [], "quote cut": []} for name in modules}
    right = dict.fromkeys(modules, 0)
    for (exact, prefix, suffix, start), edited, span, cut in made:
        for kind, new_text in (("edited", edited), ("quote cut", cut)):
            for name, module in modules.items():
                t0 = time.perf_counter()
                found = module.reanchor(new_text, exact=exact, prefix=prefix, suffix=suffix, old_start=start)
                timings[name][kind].append((time.perf_counter() - t0) * 1000)
                if kind == "edited" and found.placement == "fuzzy" and (found.start, found.end) == span:
                    right[name] += 1
    return timings, right


def edit_distances(module, made):
    """Milliseconds for 1 distance per input, quote to edited words: ``module._levenshtein`` (the
    hand-written Myers/Hyyrö bit-parallel one, where the module has it) against RapidFuzz's."""
    from rapidfuzz.distance import Levenshtein

    pairs = [(exact, edited[start:end]) for (exact, *_), edited, (start, end), _ in made]
    timings = {}
    for name, distance in (("hand-written", getattr(module, "_levenshtein", None)), ("rapidfuzz", Levenshtein.distance)):
        if distance is None:
            continue
        t0 = time.perf_counter()
        results = [distance(a, b) for a, b in pairs]
        timings[name] = ((time.perf_counter() - t0) * 1000, results)
    if len(timings) == 2 and timings["hand-written"][1] != timings["rapidfuzz"][1]:
        raise SystemExit("the two edit distances disagree")
    return {name: elapsed for name, (elapsed, _) in timings.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="quotes per text size (default 1000)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--against", metavar="REV", help="also time anchoring.py as it was at this git revision")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from annotations import anchoring

    modules = {"current": anchoring}
    if args.against:
        modules[args.against] = load_module(args.against)
    print(f"{'implementation':>14} {'text':>7} {'new wording':>11} {'calls':>6} {'median ms':>9} "
          f"{'p95 ms':>7} {'max ms':>7} {'total s':>7}  edited words found")
    for size, text in provision_texts().items():
        made = cases(text, args.calls, args.seed)
        timings, right = measure(modules, made)
        for name in modules:
            for kind, values in timings[name].items():
                values.sort()
                found = f"{right[name]}/{len(made)} FUZZY on them" if kind == "edited" else ""
                print(f"{name:>14} {size:>7} {kind:>11} {len(values):>6} {statistics.median(values):>9.2f} "
                      f"{values[int(len(values) * 0.95)]:>7.2f} {values[-1]:>7.2f} {sum(values) / 1000:>7.2f}  {found}")
        for name, module in modules.items():
            for kind, elapsed in edit_distances(module, made).items():
                print(f"{name:>14} {size:>7}  Levenshtein distance alone, {kind}: {len(made)} calls in {elapsed:.1f} ms")


if __name__ == "__main__":
    main()
