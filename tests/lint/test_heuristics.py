"""The heuristics of the rules, case by case, on notebooks built in memory.

tests/lint/test_rules.py runs each rule once on a real notebook; here the borderline cases
(what must and must not be reported) are listed, so a false positive fixed stays fixed.
Secrets are assembled at run time, so no token-shaped string is committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbprod.lint.catalog import RuleSet
from nbprod.lint.model import Finding, LintContext, LintNotebook
from nbprod.lint.rules._secrets import find_secrets
from nbprod.lint.rules._shell import shell_lines
from nbprod.lint.rules._source import strip_code
from nbprod.lint.rules.hardcoded_path import classify_path

RULES = RuleSet.from_entry_points()
PARAMS = "alpha: float = 0.5\n"


def notebook(*cells: str | dict[str, Any], params: str | None = None) -> LintNotebook:
    """Code cells from sources (a dict is a raw cell); ``params`` is prepended, tagged."""
    raw: list[dict[str, Any]] = []
    if params is not None:
        raw.append({"cell_type": "code", "source": params, "metadata": {"tags": ["parameters"]},
                    "outputs": [], "execution_count": None})
    for cell in cells:
        raw.append(cell if isinstance(cell, dict) else {
            "cell_type": "code", "source": cell, "metadata": {}, "outputs": [],
            "execution_count": None})
    data = {"cells": raw, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4,
            "nbformat_minor": 5}
    return LintNotebook.from_json(Path("x.ipynb"), "x.ipynb", data, 1000)


def tagged(source: str) -> dict[str, Any]:
    """A code cell tagged ``parameters``, to place anywhere in :func:`notebook`."""
    return {"cell_type": "code", "source": source, "metadata": {"tags": ["parameters"]},
            "outputs": [], "execution_count": None}


def check(code: str, book: LintNotebook, context: LintContext | None = None) -> list[Finding]:
    rule = RULES.get(code)
    assert rule is not None
    return list(rule.check(book, context or LintContext()))


def where(findings: list[Finding]) -> list[tuple[int | None, int | None]]:
    return [(f.cell, f.line) for f in findings]


# --- NBP103 -------------------------------------------------------------------------------

@pytest.mark.parametrize("before", [
    ["import os\nfrom pathlib import Path"],
    ['"""Setup."""\n# comment\n%load_ext autoreload\n%autoreload 2\nimport numpy as np'],
    ["from sklearn.metrics import (\n    accuracy_score,\n    f1_score,\n)\nimport os"],
    ["from os import path, \\\n    sep\nimport sys"],
    ['"""A docstring\nover lines = 3\n"""\nimport os'],
    ["import os", "import sys", "", "import re"],  # 3 non-empty cells
])
def test_parameters_after_imports_only_is_fine(before: list[str]) -> None:
    book = notebook(*before, tagged(PARAMS), "print(alpha)")
    assert book.parameters_cells
    assert check("NBP103", book) == []


def test_parameters_after_computation_or_many_cells() -> None:
    book = notebook("import os", "x = os.getcwd()", tagged(PARAMS), "print(alpha, x)")
    found = check("NBP103", book)
    assert where(found) == [(2, None)] and "cell 1 line 1" in found[0].message
    assert where(check("NBP103", notebook(*(["import os"] * 4), tagged(PARAMS)))) == [(4, None)]


def test_parameters_at_top_or_absent() -> None:
    assert check("NBP103", notebook("x = 1", params=PARAMS)) == []
    assert check("NBP103", notebook("x = 1", "y = 2")) == []


# --- NBP104 ---------------------------------------------------------------------------------

def test_untyped_none_parameters() -> None:
    params = ("a = None\nb: int | None = None\nc: Optional[str] = None\nd = 3\n"
              "e: None = None\nf = None  # help\n")
    found = check("NBP104", notebook("print(a, b, c, d, e, f)", params=params))
    assert [(f.line, f.message.split("'")[1]) for f in found] == [(1, "a"), (6, "f")]


def test_untyped_skips_an_unreadable_parameters_cell() -> None:
    assert check("NBP104", notebook("print(a)", params="a = None\nb = (")) == []


# --- NBP105 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("use", [
    "print(alpha)",
    'print(f"{alpha:.2f}")',
    "result = f(alpha=alpha)",
    "!echo {alpha}",
    'x = """doc"""\ny = alpha',
    "z = [alpha]  # alpha",
    "print(globals()['al' + 'pha'])",
])
def test_parameter_used(use: str) -> None:
    assert check("NBP105", notebook(use, params=PARAMS)) == []


@pytest.mark.parametrize("mention", [
    "# alpha",
    'print("alpha")',
    "print('alpha is 0.5')",
    'x = """\nalpha\n"""',
    "alphabet = 1\nprint(alphabet, beta_alpha)",
    'print(r"\\alpha")',
])
def test_parameter_mentioned_but_unused(mention: str) -> None:
    assert where(check("NBP105", notebook(mention, params=PARAMS))) == [(0, 1)]


def test_unused_parameter_line_and_only_other_cells_count() -> None:
    params = "alpha: float = 0.5\nbeta: int = 2  # beta\nbeta_max: int = 3\n"
    found = check("NBP105", notebook("print(alpha, beta_max)", params=params))
    assert [(f.line, f.message.split("'")[1]) for f in found] == [(2, "beta")]


def test_papermill_injected_parameters_are_not_a_use() -> None:
    injected: dict[str, Any] = {
        "cell_type": "code", "source": "# Parameters\nalpha = 0.7\n", "outputs": [],
        "metadata": {"tags": ["injected-parameters"]}, "execution_count": None}
    assert where(check("NBP105", notebook(injected, "print(1)", params=PARAMS))) == [(0, 1)]


def test_strip_code_keeps_lines_and_fstring_fields() -> None:
    source = 'a = "x # y"  # c\nb = f"{alpha} {{lit}}"\nc = """\n#\n"""\nd = 1'
    stripped = strip_code(source)
    assert stripped.count("\n") == source.count("\n")
    assert "alpha" in stripped and "lit" not in stripped and "#" not in stripped
    assert stripped.splitlines()[-1] == "d = 1"


# --- NBP201, NBP202, NBP203 -----------------------------------------------------------------

def cell(source: str, count: int | None, outputs: list[dict[str, Any]] | None = None
         ) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": outputs or [],
            "execution_count": count}


@pytest.mark.parametrize(("counts", "expected"), [
    ([None, None, None], []),
    ([1, 2, 3], []),
    ([2, 5, 9], []),
    ([1, None, 3], [1]),
    ([None, 1, 2], [0]),
    ([1, 3, 2], [2]),
    ([1, 1, 2], [1]),
])
def test_hidden_state(counts: list[int | None], expected: list[int]) -> None:
    cells = [cell(f"x{i} = {i}", count) for i, count in enumerate(counts)]
    cells.insert(1, cell("", None))  # empty code cells and markdown do not count
    cells.insert(2, {"cell_type": "markdown", "source": "# t", "metadata": {}})
    found = check("NBP201", notebook(*cells))
    assert [f.cell for f in found] == [i + 2 if i else 0 for i in expected]
    assert all(f.fixable for f in found)


def test_error_output_only_for_errors() -> None:
    stderr = {"output_type": "stream", "name": "stderr", "text": "Traceback: warning\n"}
    error = {"output_type": "error", "ename": "KeyError", "evalue": "'price'" + "x" * 200,
             "traceback": []}
    found = check("NBP202", notebook(cell("a", 1, [stderr]), cell("b", 2, [error, error])))
    assert where(found) == [(1, None)]
    assert found[0].message.startswith("saved error output KeyError: 'price'")
    assert len(found[0].message) < 120


def test_oversized_output_is_measured_per_output() -> None:
    small = {"output_type": "stream", "name": "stdout", "text": ["x" * 600, "y" * 300]}
    big = {"output_type": "display_data", "metadata": {},
           "data": {"text/plain": "x" * 800, "image/png": "A" * 400}}
    book = notebook(cell("a", 1, [small, small]), cell("b", 2, [small, big]))
    book.size = 10_000
    found = check("NBP203", book, LintContext(max_output_bytes=1000))
    assert where(found) == [(1, None)] and "output 1 is 1.2 kB" in found[0].message


# --- NBP301 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "/home/alice/data.csv", "/home/alice/project", "/Users/bob/Downloads/x.xlsx",
    "/root/.cache/model.bin", "~/data/raw.csv", "~\\\\data", "C:\\\\Users\\\\bob\\\\x.csv",
    "C:/Users/bob/x.csv", "d:\\\\Users\\\\eve", "D:\\\\data\\\\raw.csv", "E:/models",
    "/data/raw/x.csv", "/mnt/share/model.pkl", "/srv/app/config.yaml",
    "C:\\\\Program Files (x86)\\\\App\\\\app.ini",
])
def test_hard_coded_paths(text: str) -> None:
    assert classify_path(text) is not None


@pytest.mark.parametrize("text", [
    "/tmp/x.csv", "/dev/null", "/proc/cpuinfo", "/var/tmp/a.txt", "https://host/a/b.csv",
    "s3://bucket/a/b.csv", "file:///home/alice/x.csv", r"^/home/\w+/.*\.csv$",
    "/home/*/data.csv", "data/raw/x.csv", "./x.csv", "../models/m.pkl", "/api", "/x.csv",
    "/usr/bin/python3", "/etc/hosts", "a/b", "%Y/%m/%d", "/ total", "~", "/home/",
    "(/\\d+/\\w+\\.csv)", "line one\n/data/raw/x.csv", "a:\\n", "x:\\tvalue",
])
def test_not_hard_coded_paths(text: str) -> None:
    assert classify_path(text) is None


def test_hard_coded_path_lines_skip_comments() -> None:
    source = ('# see /home/alice/x.csv\nx = 1\nf(\n    "/Users/bob/x.csv",\n)\n'
              'y = """\ntext\n"""\nz = "/data/a/b.parquet"')
    assert where(check("NBP301", notebook(source))) == [(0, 4), (0, 9)]


# --- NBP302, NBP303 -------------------------------------------------------------------------

ALNUM = "Ab3dE6gH9jKlM2nP5qRsT8vW"
SECRETS = {
    "AWS access key id": "AKIA" + "Q7ZX3MPL2ND8RT4W",
    "GitHub token": "ghp_" + (ALNUM * 2)[:36],
    "Slack token": "xoxb-" + "1234567890-" + ALNUM,
    "Google API key": "AIza" + (ALNUM * 2)[:35],
    "Stripe live key": "sk_" + "live_" + ALNUM,
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_token_patterns(kind: str) -> None:
    value = SECRETS[kind]
    found = list(find_secrets(f'client = Client(key="{value}")\n'))
    assert [(s.kind, s.value) for s in found] == [(kind, value)]
    assert found[0].redacted == value[:4] + "…"


@pytest.mark.parametrize(("text", "kind"), [
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n", "private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
    ("-----BEGIN PRIVATE KEY-----", "private key"),
    ("engine = create_engine('postgresql://etl:Tr0ub4dor3x@db:5432/sales')",
     "password in a connection string"),
    ("redis://default:s3cr3tPa55@cache.internal:6379/0", "password in a connection string"),
    ('password = "Tr0ub4dor&3x"', "secret assigned to a variable"),
    ('DB_PASSWORD: str = "Tr0ub4dor&3x"', "secret assigned to a variable"),
    ('headers = {"x-api-key": "abcd1234efgh5678"}', "secret assigned to a variable"),
    ("API_TOKEN = 'q8Zt2LmW9pXc'", "secret assigned to a variable"),
    ('connect(client_secret="q8Zt2LmW9pXc")', "secret assigned to a variable"),
    ('os.environ["DB_PASSWORD"] = "Tr0ub4dor&3x"', "secret assigned to a variable"),
    ("aws_secret_access_key=" + "Q7zx3Mpl2nd8rt4W" * 2 + "Ab3dE6gH", "AWS secret access key"),
])
def test_secret_patterns(text: str, kind: str) -> None:
    assert [s.kind for s in find_secrets(text)] == [kind]


@pytest.mark.parametrize("text", [
    'password = os.environ["DB_PASSWORD"]',
    "password = getpass.getpass()",
    'token = os.getenv("API_TOKEN", "")',
    'password = "<your password>"',
    'password = "${DB_PASSWORD}"',
    'password = "********"',
    'password = "xxxxxxxx"',
    'api_key = "YOUR_API_KEY_HERE"',
    'password = "short"',
    'password = f"{prefix}{suffix}"',
    'if password == "Tr0ub4dor&3x":',
    'tokenizer = "bert-base-uncased"',
    'secret_name = "prod/db/credentials"',
    'token_url = "https://auth.example.com/token"',
    "max_tokens = 'unlimited'",
    "postgresql://etl:***@db/sales",
    "postgresql://etl:{password}@db/sales",
    "postgresql://etl:@db/sales",
    "postgresql://etl@db/sales",
    "postgresql://user:password@localhost/db",
    "https://example.com/a@b",
    "AKIA" + "Q7ZX3MPL2ND8RT4",  # 15 characters
    "AKIA" + "Q7ZX3MPL2ND8RT4W" + "X",  # 17
    "the password must be at least 8 characters",
    "Asia/Tokyo secret token api_key",
])
def test_not_secrets(text: str) -> None:
    assert list(find_secrets(text)) == []


def test_secret_in_source_markdown_and_line() -> None:
    markdown = {"cell_type": "markdown", "metadata": {},
                "source": "Connect with\n\n`mysql://root:" + "Tr0ub4dor3x" + "@db/app`"}
    found = check("NBP302", notebook("x = 1", markdown))
    assert where(found) == [(1, 3)]
    assert "Tr0ub4dor3x" not in found[0].message and "Tr0u…" in found[0].message


def test_secret_in_output_is_reported_once_per_cell() -> None:
    key = SECRETS["AWS access key id"]
    error = {"output_type": "error", "ename": "AuthError", "evalue": f"bad key {key}",
             "traceback": [f"line {key}", f"again {key}"]}
    html = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
            "data": {"text/html": f"<td>{SECRETS['GitHub token']}</td>"}}
    found = check("NBP303", notebook(cell("x = 1", 1, [error, html])))
    assert sorted(f.message.split(" in output")[0] for f in found) == [
        "AWS access key id", "GitHub token"]
    assert all(key not in f.message and f.fixable for f in found)
    assert check("NBP302", notebook(cell("x = 1", 1, [error]))) == []


# --- NBP304, NBP307 -------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "!pip install pandas", "%pip install pandas==2.2", "!pip3 install -U pandas",
    "!python -m pip install pandas", "!uv pip install pandas", "%conda install -y pandas",
    "!conda install pandas", "!mamba install pandas", "!apt-get install -y graphviz",
    "!sudo apt-get -y install graphviz", "out = !pip install pandas",
    "import subprocess, sys\nsubprocess.check_call([sys.executable, '-m', 'pip', 'install', 'x'])",
    "import os\nos.system('pip install pandas')",
    "import subprocess\nsubprocess.run(\n    ['pip', '-q', 'install', 'x'],\n    check=True)",
])
def test_package_installs(source: str) -> None:
    kinds = [kind for _line, kind, _text in shell_lines(source)]
    assert kinds == ["install"], source
    assert check("NBP307", notebook(source)) == []
    assert [f.line for f in check("NBP304", notebook(source))] == [source.count("\n", 0, max(
        source.find("install"), 0)) + 1]


@pytest.mark.parametrize("source", [
    "!ls -la", "files = !ls", "%system ls", "%sx ls", "%%bash\necho hi", "%%sh\nls",
    "%%script bash\nls", "!pip list", "x = 1\n  !nvidia-smi",
])
def test_shell_escapes(source: str) -> None:
    assert [kind for _line, kind, _text in shell_lines(source)] == ["shell"], source
    assert check("NBP304", notebook(source)) == []


@pytest.mark.parametrize("source", [
    "%matplotlib inline", "%pip list", "if a != b:\n    pass", "# !pip install x",
    "print('pip install x')", "%load_ext autoreload", "%%capture\nx = 1", "%timeit f()",
    "x = not_a != shell",
])
def test_neither_install_nor_shell(source: str) -> None:
    assert list(shell_lines(source)) == []


def test_bash_cell_installs_and_commands() -> None:
    source = "%%bash\npip install x\necho done"
    assert [(line, kind) for line, kind, _ in shell_lines(source)] == [(1, "shell"),
                                                                       (2, "install")]
    assert [(line, kind) for line, kind, _ in shell_lines("%%bash\npip install x")] == [
        (2, "install")]


# --- NBP401 ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "lines"), [
    ("import numpy as np\nx = np.random.rand(3)", [2]),
    ("x = np.random.choice([1, 2])\ny = numpy.random.normal(0, 1)", [1, 2]),
    ("import random\nrandom.shuffle(items)", [2]),
    ("np.random.seed(0)\nrng = np.random.default_rng()", [2]),
    ("import torch\nx = torch.randn(3, 3)", [2]),
    ("a, b = train_test_split(X, y, test_size=0.2)", [1]),
    ("m = RandomForestClassifier(n_estimators=10)", [1]),
    ("cv = KFold(5, shuffle=True)", [1]),
    ("km = KMeans(3)\nsgd = SGDClassifier(\n    loss='hinge',\n)", [1, 2]),
    ("m = GradientBoostingRegressor(random_state=None)", [1]),
    ("np.random.seed(0)\nimport random\nx = random.random()", [3]),
    ("state = np.random.RandomState()\ngen = random.Random()", [1, 2]),
])
def test_unseeded(source: str, lines: list[int]) -> None:
    assert [f.line for f in check("NBP401", notebook(source))] == lines


@pytest.mark.parametrize("source", [
    "np.random.seed(0)\nx = np.random.rand(3)",
    "random.seed(1)\nx = random.random()",
    "rng = np.random.default_rng(seed)\nx = rng.random()",
    "torch.manual_seed(0)\nx = torch.rand(2)",
    "a, b = train_test_split(X, y, random_state=seed)",
    "m = RandomForestClassifier(\n    n_estimators=10,\n    random_state=seed,\n)",
    "cv = KFold(5)",
    "cv = StratifiedKFold(5, shuffle=True, random_state=0)",
    "a, b = train_test_split(X, shuffle=False)",
    "m = RandomForestClassifier(**params)",
    "np.random.seed(0)\na, b = train_test_split(X)",
    "set_seed(0)\nx = random.random()\ny = torch.randn(2)",
    '# np.random.rand(3)\nprint("random.random()")',
    "from sklearn.ensemble import RandomForestClassifier\nfrom sklearn.model_selection import (\n"
    "    KFold,\n    train_test_split,\n)",
    "x = my.random.random()\ny = np.arange(3)",
    "state = np.random.RandomState(seed)\ngen = random.Random(seed)",
])
def test_seeded_or_not_random(source: str) -> None:
    assert check("NBP401", notebook(source)) == []


def test_seed_in_another_cell_counts() -> None:
    book = notebook("import numpy as np\nnp.random.seed(seed)", "x = np.random.rand(3)",
                    params="seed: int = 0\n")
    assert check("NBP401", book) == []


# --- NBP305 ---------------------------------------------------------------------------------

def test_kernel_names_are_case_blind() -> None:
    """Jupyter lower-cases kernel names (kernels.installed_kernels does too)."""
    book = notebook("x = 1")
    context = LintContext(installed_kernels=frozenset({"python3"}))
    book.data["metadata"]["kernelspec"]["name"] = "Python3"
    assert check("NBP305", book, context) == []
    book.data["metadata"]["kernelspec"]["name"] = "python2"
    assert len(check("NBP305", book, context)) == 1
    del book.data["metadata"]["kernelspec"]
    assert "no kernelspec" in check("NBP305", book, context)[0].message


# --- NBP101 -------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "fixable"), [
    ("alpha = 0.5\nrows: int = 10", True),
    ("import os\nalpha = 0.5", False),
    ("alpha = 0.5\nfor i in range(3):\n    alpha += i", False),
    ("print(1)", False),
    ("from_date = '2024-01-01'\nformat_ = 'csv'\nif_missing = 'skip'", True),
    ('doc = """\nimport this, then that\n"""\nalpha = 0.5', True),  # in a string: no import
])
def test_missing_parameters_is_fixable_only_for_literal_assignments(first: str,
                                                                   fixable: bool) -> None:
    (found,) = check("NBP101", notebook(first, "print(alpha)"))
    assert found.fixable is fixable
