"""NBP401: random numbers drawn without a seed (results change on every run)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._source import Hints, line_at, strip_code

# A cell cannot draw random numbers, or seed a generator, without one of these words.
_HINTS = Hints(("rand", "Random", "_rng", "torch", "seed", "split", "Split", "Boosting",
                "Trees", "KMeans", "KFold", "MLP", "SGD"))

_NUMPY = re.compile(
    r"\b(?:np|numpy)\.random\.(?:rand|randn|randint|random_integers|random_sample|random|ranf|"
    r"sample|choice|shuffle|permutation|permuted|normal|uniform|standard_normal|binomial|"
    r"poisson|exponential|beta|gamma|lognormal|multivariate_normal|multinomial|bytes)\s*\(")
_PYTHON = re.compile(r"(?<![\w.])random\.(?:random|randint|randrange|randbytes|getrandbits|"
                     r"choice|choices|shuffle|sample|uniform|gauss|normalvariate|triangular|"
                     r"betavariate|expovariate|lognormvariate)\s*\(")
_TORCH = re.compile(r"\btorch\.(?:rand|randn|randint|randperm|rand_like|randn_like|"
                    r"randint_like|bernoulli|multinomial|normal)\s*\(")
# New generators seeded from the OS: no global seed reaches them.
_NEW_RNG = re.compile(r"\b(default_rng|RandomState|random\.Random)\s*\(\s*\)")
_SKLEARN = re.compile(
    r"\b(train_test_split|RandomForestClassifier|RandomForestRegressor|"
    r"GradientBoostingClassifier|GradientBoostingRegressor|HistGradientBoostingClassifier|"
    r"HistGradientBoostingRegressor|ExtraTreesClassifier|ExtraTreesRegressor|KMeans|"
    r"MiniBatchKMeans|ShuffleSplit|StratifiedShuffleSplit|MLPClassifier|MLPRegressor|"
    r"SGDClassifier|SGDRegressor|KFold|StratifiedKFold|RepeatedKFold|"
    r"RepeatedStratifiedKFold)\s*\(")

_SEED_ALL = re.compile(r"\b(?:set_seed|set_random_seed|seed_everything)\s*\(")
_SEED_NUMPY = re.compile(r"\b(?:np|numpy)\.random\.seed\s*\(\s*[^)\s]")
_SEED_NUMPY_RNG = re.compile(r"\bdefault_rng\s*\(\s*[^)\s]")
_SEED_PYTHON = re.compile(r"(?<![\w.])random\.seed\s*\(\s*[^)\s]")
_SEED_TORCH = re.compile(r"\btorch\.manual_seed\s*\(")
_RANDOM_STATE = re.compile(r"\brandom_state\s*=\s*(?!None\b)")
_SHUFFLE_TRUE = re.compile(r"\bshuffle\s*=\s*True\b")
_SHUFFLE_FALSE = re.compile(r"\bshuffle\s*=\s*False\b")
# Splitters that only shuffle (and so only need a seed) with shuffle=True.
_SHUFFLE_ONLY = frozenset({"KFold", "StratifiedKFold"})
_MAX_CALL = 2000  # characters scanned for a call's closing parenthesis


class UnseededRandomness:
    """Random numbers should come from a seeded generator.

    A notebook that draws from an unseeded generator (``np.random.rand()``,
    ``random.shuffle()``, ``np.random.default_rng()``, ``torch.randn()``) or calls
    scikit-learn without ``random_state`` (``train_test_split``, random forests, ``KMeans``,
    shuffled ``KFold``...) gives different numbers on every run: runs cannot be reproduced
    or compared, and a metric that moved may have moved by chance. Add a ``seed: int = 42``
    parameter and use it: ``rng = np.random.default_rng(seed)``, ``random.seed(seed)``,
    ``torch.manual_seed(seed)``, ``random_state=seed``.

    Each library's global generator counts as seeded once seeded anywhere in the notebook
    (``np.random.seed``, which also seeds scikit-learn, or a seeded ``default_rng(seed)``
    for numpy; ``random.seed``; ``torch.manual_seed``; ``set_seed``/``seed_everything`` for
    all). ``default_rng()``, ``RandomState()`` and ``random.Random()`` without a seed are
    always reported: no global seed reaches them.

    Bad:  ``X_train, X_test = train_test_split(X, test_size=0.2)``
    Good: ``X_train, X_test = train_test_split(X, test_size=0.2, random_state=seed)``
    """

    code = "NBP401"
    name = "unseeded-randomness"
    severity: Severity = "warning"
    summary = "random numbers are drawn without a seed"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        code_cells = notebook.code_cells
        if not _HINTS.any("\n".join(c.source for c in code_cells)):
            return
        cells = [(c.index, strip_code(c.source)) for c in code_cells if _HINTS.any(c.source)]
        code = "\n".join(text for _index, text in cells)
        seed_all = bool(_SEED_ALL.search(code))
        numpy_seeded = seed_all or bool(_SEED_NUMPY.search(code))
        seeded = {
            "numpy": numpy_seeded or bool(_SEED_NUMPY_RNG.search(code)),
            "python": seed_all or bool(_SEED_PYTHON.search(code)),
            "torch": seed_all or bool(_SEED_TORCH.search(code)),
        }
        for index, text in cells:
            for family, regex in (("numpy", _NUMPY), ("python", _PYTHON), ("torch", _TORCH)):
                if seeded[family]:
                    continue
                for match in regex.finditer(text):
                    call = match.group(0).rstrip("(").rstrip()
                    yield finding(self, notebook, f"{call}() draws from an unseeded {family} "
                                  "generator: results change on every run; seed it with a "
                                  "'seed' parameter", cell=index, line=line_at(text, match.start()))
            for match in _NEW_RNG.finditer(text):
                yield finding(self, notebook, f"{match.group(1)}() without a seed: results "
                              "change on every run; pass a 'seed' parameter",
                              cell=index, line=line_at(text, match.start()))
            if numpy_seeded:
                continue  # scikit-learn's random_state=None uses numpy's global generator
            for match in _SKLEARN.finditer(text):
                name = match.group(1)
                arguments = _arguments(text, match.end())
                if "**" in arguments or _RANDOM_STATE.search(arguments):
                    continue
                if name in _SHUFFLE_ONLY and not _SHUFFLE_TRUE.search(arguments):
                    continue
                if name == "train_test_split" and _SHUFFLE_FALSE.search(arguments):
                    continue
                yield finding(self, notebook, f"{name}() without random_state: results change "
                              "on every run; pass random_state=seed",
                              cell=index, line=line_at(text, match.start()))


def _arguments(text: str, start: int) -> str:
    """The text of a call's arguments, from after its "(" to the matching ")"."""
    depth = 1
    end = min(len(text), start + _MAX_CALL)
    for position in range(start, end):
        char = text[position]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[start:position]
    return text[start:end]
