"""A computation task's output files are answers too: programs that agree on `result` but write
different tables do not verify each other; the same table written another way still agrees."""

from __future__ import annotations

import base64

from multiagent_codeact import Candidate, Task
from multiagent_codeact.sandbox import Sandbox
from multiagent_codeact.verify import VerificationReport, averify
from multiagent_codeact.verify.outputs import written_files

TASK = Task(
    prompt="Write the rows of (name, price) for a and b, prices 2.5 and 10, to prices.csv, "
    "and set `result` to the number of rows."
)
WITH_CSV = (
    "import csv\n"
    "with open('prices.csv', 'w', newline='') as f:\n"
    "    w = csv.writer(f)\n"
    "    w.writerow(['name', 'price'])\n"
    "    w.writerows([['a', '2.50'], ['b', '10']])\n"
    "result = 2\n"
)
# The same table: pandas' index column, columns swapped, 10.0 for 10, CRLF line ends.
WITH_PANDAS = (
    "import pandas as pd\n"
    "pd.DataFrame({'price': [2.5, 10.0], 'name': ['a', 'b']})"
    ".to_csv('prices.csv', lineterminator='\\r\\n')\n"
    "result = 2\n"
)
WITH_LINES = "open('prices.csv', 'w').write('name,price\\nb,10.000\\na,2.5\\n')\nresult = 1 + 1\n"
WRONG_PRICE = "open('prices.csv', 'w').write('name,price\\na,2.5\\nb,1.0\\n')\nresult = 2\n"
NO_FILE = "result = 2\n"


def cand(cid: str, code: str) -> Candidate:
    return Candidate(id=cid, code=code, origin=f"test:{cid}")


def cluster_of(report: VerificationReport, cid: str) -> list[str]:
    return sorted(next(c.members for c in report.evidence.clusters if cid in c.members))


async def test_the_same_table_written_three_ways_agrees_and_verifies(sandbox: Sandbox) -> None:
    candidates = [cand("csv", WITH_CSV), cand("pandas", WITH_PANDAS), cand("lines", WITH_LINES)]
    report = await averify(TASK, candidates, sandbox=sandbox)
    assert cluster_of(report, "csv") == ["csv", "lines", "pandas"]
    assert report.verified, report.reasons


async def test_agreeing_on_result_but_not_on_the_file_is_not_agreement(sandbox: Sandbox) -> None:
    candidates = [cand("csv", WITH_CSV), cand("wrong", WRONG_PRICE), cand("none", NO_FILE)]
    report = await averify(TASK, candidates, sandbox=sandbox)
    # All three set result = 2; each wrote another answer, so none backs another.
    assert [len(c.members) for c in report.evidence.clusters] == [1, 1, 1]
    assert not report.verified
    calls = {ce.call for ce in report.evidence.counterexamples}
    assert calls == {"the files it writes"}
    shown = " ".join(ce.rival_output + ce.selected_output for ce in report.evidence.counterexamples)
    assert "prices.csv" in shown and "2 rows x 2 columns" in shown


async def test_two_right_beat_one_that_writes_a_wrong_table(sandbox: Sandbox) -> None:
    candidates = [cand("csv", WITH_CSV), cand("wrong", WRONG_PRICE), cand("lines", WITH_LINES)]
    report = await averify(TASK, candidates, sandbox=sandbox)
    assert cluster_of(report, "csv") == ["csv", "lines"]
    assert report.selected is not None and report.selected.id in {"csv", "lines"}


def entry(name: str, data: bytes) -> dict[str, object]:
    return {"name": name, "size": len(data), "data": base64.b64encode(data).decode()}


def test_what_counts_as_the_same_file() -> None:
    def same(name: str, a: bytes, b: bytes) -> bool:
        return written_files([entry(name, a)]) == written_files([entry(name, b)])

    assert same("t.csv", b"x,y\n1,2.50\n", b"y,x\r\n2.5,1.0\r\n")  # columns, numbers, CRLF
    assert same("t.csv", b",x\n0,a\n1,b\n", b"x\nb\na\n")  # pandas' index, row order
    assert same("t.csv", b"x,y\n1,nan\n", b"x,y\n1,\n")  # a missing value, spelt two ways
    assert not same("t.csv", b"x\n1\n2\n", b"x\n1\n")  # a row fewer
    assert not same("t.csv", b"x\n1\n", b"x\n1.001\n")
    assert not same("t.csv", b"x\nNorth\n", b"x\nnorth\n")
    assert same("d.json", b'{"a": 1, "b": [2.0]}', b'{"b": [2], "a": 1.0000000001}')
    assert not same("d.json", b'{"a": 1}', b'{"a": 2}')
    assert same("n.txt", b"one  \r\ntwo\n\n", b"one\ntwo")
    assert same("p.png", b"\x89PNG one", b"\x89PNG two")  # images: by name only
    assert written_files([{"name": "big.csv", "size": 9, "sha256": "ab" * 32}]) == {
        "big.csv": "9 bytes, sha256 abababababab"
    }
    assert written_files(["junk", {"name": 3}]) == {}
