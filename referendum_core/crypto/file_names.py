"""The names of the files a trustee handles, in one scheme for the trustee page, the portal's
downloads (their Content-Disposition), the demo seed and the guide.

Files that are downloaded or kept (the secret key share, the election record, the key
generation's transcript, the partial decryption) are named ``<what>-<election id>.json``, so a
trustee of several referendums keeps them apart; a key-generation round's working files are
named after the round and used only during the ceremony. The election's published documents
follow the same ``<what>-<election id>`` scheme (``ElectionFiles``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrusteeFiles:
    """The file names for one election (``election_id`` as in its manifest)."""

    election_id: str

    @property
    def secret(self) -> str:
        """The trustee's sealed key share (``keygen`` or ``dkg finalize`` writes it)."""
        return f"trustee-{self.election_id}.json"

    @property
    def record(self) -> str:
        """The election record the portal gives for download (``decrypt --tally`` reads it)."""
        return f"election-record-{self.election_id}.json"

    @property
    def transcript(self) -> str:
        """The key generation's transcript the portal gives for download."""
        return f"key-generation-{self.election_id}.json"

    @property
    def partial(self) -> str:
        """The trustee's partial decryption (``decrypt --out``), uploaded to the portal."""
        return f"partial-{self.election_id}.json"

    # A key-generation round's working files.
    state: str = "state.json"
    commit: str = "commit.json"
    reveal: str = "reveal.json"
    shares: str = "shares.json"
    complaints: str = "complaints.json"
    answers: str = "answers.json"


@dataclass(frozen=True)
class ElectionFiles:
    """The names of an election's published documents (``election_id`` as in its manifest)."""

    election_id: str

    @property
    def results_protocol(self) -> str:
        """The signed results protocol (PDF)."""
        return f"results-protocol-{self.election_id}.pdf"

    @property
    def results_signature(self) -> str:
        """The portal's detached OpenPGP signature of the results protocol."""
        return f"results-protocol-{self.election_id}.pdf.asc"


def attachment(name: str) -> str:
    """The Content-Disposition header value that offers ``name`` for download."""
    return f'attachment; filename="{name}"'
