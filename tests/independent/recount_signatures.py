"""An independent recount of an initiative's public signature board, from its JSON alone.

Deliberately written from ``docs/spec/signature-board.md`` with nothing but ``hashlib`` and
``json`` (it imports no portal package), so that it shows the count can be checked by anyone.
Prints the count; exits 1 with a reason when the chain or the count does not hold.

    python recount_signatures.py BOARD.json
"""
import hashlib
import json
import sys


def frame(data):
    return len(data).to_bytes(4, "big") + data


def recount(board):
    head = "0" * 64
    status = {}
    for n, entry in enumerate(board["entries"], 1):
        if entry["seq"] != n:
            raise ValueError(f"entry {n}: seq {entry['seq']}")
        body = {k: v for k, v in entry.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        head = hashlib.sha256(frame(b"referendum-signature-board/1") + frame(bytes.fromhex(head))
                              + frame(text.encode())).hexdigest()
        if head != entry["hash"]:
            raise ValueError(f"entry {n}: the hash does not chain")
        receipt = entry["receipt"]
        if entry["kind"] == "signature":
            if receipt in status:
                raise ValueError(f"entry {n}: duplicate receipt")
            status[receipt] = "counted"
        elif entry["kind"] == "exclusion":
            if status.get(receipt) != "counted" or entry.get("reason") not in (
                    "not_eligible", "duplicate", "withdrawn"):
                raise ValueError(f"entry {n}: exclusion of an unknown receipt or without reason")
            status[receipt] = entry["reason"]
        else:
            raise ValueError(f"entry {n}: unknown kind")
    if head != board["head"] or len(board["entries"]) != board["seq"]:
        raise ValueError("the head or seq does not match the entries")
    count = sum(1 for s in status.values() if s == "counted")
    if count != board["count"]:
        raise ValueError(f"the board says {board['count']}, the entries give {count}")
    return count


def main(path):
    with open(path, encoding="utf-8") as file:
        board = json.load(file)
    try:
        count = recount(board)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"INVALID: {exc}")
        return 1
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
