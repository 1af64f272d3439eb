/*
 * Verifiable encrypted ballots in the browser — spec "referendum-record/1", sections 1, 2 and 5.
 *
 * Byte-compatible with referendum_core/crypto (Python): the shared vectors in
 * tests/vectors/election-record-v1.json are reproduced exactly by both.
 *
 * Needs the vendored libsodium (load, in order, as plain scripts):
 *   /static/vendor/libsodium/libsodium-sumo.js, /static/vendor/libsodium/libsodium-wrappers.js,
 *   /static/js/ballot.js
 * Then:  await RefBallot.ready;
 *   const enc = RefBallot.encryptBallot(election, alias, [1, 0]);  // {ballot, randomness, plaintext, tracker}
 *   const revealed = RefBallot.auditBallot(enc);                   // Benaloh challenge; never cast it
 *   const tracker = RefBallot.verifyBallot(election, alias, ballot);
 * where election = {election_hash, manifest} or
 *       {election_hash, public_key, n_choices, min_choices, max_choices}.
 *
 * Randomness is drawn in the same order as the Python code: r_k for every choice; then for each
 * choice and finally the overall proof, for j in order: w at the true index, else c_j then z_j.
 */
(function (root) {
  "use strict";

  var sodium = root.sodium;
  if (!sodium) {
    throw new Error("ballot.js needs libsodium-wrappers (window.sodium) loaded first");
  }

  // L, little-endian.
  var L_BYTES = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
  ];
  var HEX64 = /^[0-9a-f]{64}$/;
  var CHOICE_TAG = "choice-proof-v1";
  var OVERALL_TAG = "overall-proof-v1";
  var BALLOT_KEYS = ["alias", "choices", "election_hash", "overall_proof"];
  var AUDIT_KEYS = ["alias", "choices", "election_hash", "overall_proof", "plaintext", "randomness"];
  var utf8 = new TextEncoder();

  function CryptoError(kind, message, location) {
    var e = new Error((location ? location + ": " : "") + message);
    e.name = kind;
    e.kind = kind;
    e.location = location || "";
    e.detail = message;
    return e;
  }

  function at(err, prefix) {
    if (!err || err.location === undefined) {
      return err;
    }
    if (!err.location) {
      err.location = prefix;
    } else if (err.location.charAt(0) === "[") {
      err.location = prefix + err.location;
    } else {
      err.location = prefix + "." + err.location;
    }
    err.message = err.location + ": " + err.detail;
    return err;
  }

  // ------------------------------------------------------------------ bytes

  function hex(b) {
    return sodium.to_hex(b);
  }

  function unhex(h) {
    return sodium.from_hex(h);
  }

  function eq(a, b) {
    if (a.length !== b.length) {
      return false;
    }
    for (var i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        return false;
      }
    }
    return true;
  }

  function concat(parts) {
    var n = 0;
    parts.forEach(function (p) {
      n += p.length;
    });
    var out = new Uint8Array(n);
    var o = 0;
    parts.forEach(function (p) {
      out.set(p, o);
      o += p.length;
    });
    return out;
  }

  function frame(x) {
    var out = new Uint8Array(4 + x.length);
    var n = x.length;
    out[0] = (n >>> 24) & 255;
    out[1] = (n >>> 16) & 255;
    out[2] = (n >>> 8) & 255;
    out[3] = n & 255;
    out.set(x, 4);
    return out;
  }

  function item(x) {
    if (x instanceof Uint8Array) {
      return x;
    }
    if (typeof x === "string") {
      return utf8.encode(x);
    }
    if (typeof x === "number" && Number.isInteger(x) && x >= 0) {
      return utf8.encode(String(x));
    }
    throw new TypeError("cannot hash " + typeof x);
  }

  // ------------------------------------------------------------------ group

  var ZERO = new Uint8Array(32);
  var IDENTITY = new Uint8Array(32);
  IDENTITY[0] = 1;
  var ONE = new Uint8Array(32);
  ONE[0] = 1;
  var BASE = null; // set once sodium is ready
  var small = null;

  function isZero(s) {
    return eq(s, ZERO);
  }

  function baseMul(s) {
    return isZero(s) ? IDENTITY : sodium.crypto_scalarmult_ed25519_base_noclamp(s);
  }

  function mul(s, p) {
    if (isZero(s) || eq(p, IDENTITY)) {
      return IDENTITY;
    }
    try {
      return sodium.crypto_scalarmult_ed25519_noclamp(s, p);
    } catch (e) {
      throw CryptoError("InvalidPoint", "not a valid group element");
    }
  }

  function add(p, q) {
    return sodium.crypto_core_ed25519_add(p, q);
  }

  function sub(p, q) {
    return sodium.crypto_core_ed25519_sub(p, q);
  }

  function pSum(points) {
    return points.reduce(add, IDENTITY);
  }

  function sAdd(a, b) {
    return sodium.crypto_core_ed25519_scalar_add(a, b);
  }

  function sSub(a, b) {
    return sodium.crypto_core_ed25519_scalar_sub(a, b);
  }

  function sMul(a, b) {
    return sodium.crypto_core_ed25519_scalar_mul(a, b);
  }

  function sSum(list) {
    return list.reduce(sAdd, ZERO);
  }

  function smallMultiple(v) {
    while (small.length <= v) {
      small.push(add(small[small.length - 1], BASE));
    }
    return small[v];
  }

  function isValidPoint(p) {
    return p.length === 32 && !eq(p, IDENTITY) && sodium.crypto_core_ed25519_is_valid_point(p);
  }

  function randomScalar() {
    return sodium.crypto_core_ed25519_scalar_random();
  }

  function parseScalar(v) {
    if (typeof v !== "string" || !HEX64.test(v)) {
      throw CryptoError("InvalidScalar", "scalar must be 64 lowercase hex digits");
    }
    var s = unhex(v);
    for (var i = 31; i >= 0; i--) {
      if (s[i] !== L_BYTES[i]) {
        if (s[i] > L_BYTES[i]) {
          throw CryptoError("InvalidScalar", "scalar is not reduced mod L");
        }
        return s;
      }
    }
    throw CryptoError("InvalidScalar", "scalar is not reduced mod L");
  }

  function parsePointRaw(v) {
    if (typeof v !== "string" || !HEX64.test(v)) {
      throw CryptoError("InvalidPoint", "point must be 64 lowercase hex digits");
    }
    var p = unhex(v);
    if (eq(p, IDENTITY)) {
      throw CryptoError("InvalidPoint", "the identity is not a valid received point");
    }
    return p;
  }

  function parsePoint(v) {
    var p = parsePointRaw(v);
    if (!sodium.crypto_core_ed25519_is_valid_point(p)) {
      throw CryptoError("InvalidPoint", "not a valid group element");
    }
    return p;
  }

  /** Hs(tag, x1, …, xn) = reduce(SHA-512(frame(tag) ‖ frame(x1) ‖ …)). */
  function hashToScalar(tag, items) {
    var parts = [frame(utf8.encode(tag))];
    items.forEach(function (x) {
      parts.push(frame(item(x)));
    });
    return sodium.crypto_core_ed25519_scalar_reduce(sodium.crypto_hash_sha512(concat(parts)));
  }

  function computeTracker(electionHash, alias, alphas, betas) {
    var parts = [frame(utf8.encode("tracker-v1")), frame(electionHash), frame(utf8.encode(alias))];
    for (var k = 0; k < alphas.length; k++) {
      parts.push(frame(alphas[k]), frame(betas[k]));
    }
    return sodium.crypto_hash_sha256(concat(parts));
  }

  // ------------------------------------------------------------------ election context

  function range(lo, hi) {
    var out = [];
    for (var v = lo; v <= hi; v++) {
      out.push(v);
    }
    return out;
  }

  function context(election) {
    if (election && election._ctx) {
      return election;
    }
    var m = election.manifest;
    var q = m ? m.question : null;
    var ctx = {
      _ctx: true,
      electionHashHex: election.election_hash,
      electionHash: unhex(election.election_hash),
      publicKey: parsePoint(m ? m.public_key : election.public_key),
      n: q ? q.choices.length : election.n_choices,
      min: q ? q.min_choices : election.min_choices,
      max: q ? q.max_choices : election.max_choices,
    };
    if (!HEX64.test(ctx.electionHashHex)) {
      throw CryptoError("InvalidEncoding", "election_hash must be 64 lowercase hex digits");
    }
    ctx.overall = range(ctx.min, ctx.max);
    return ctx;
  }

  // ------------------------------------------------------------------ range proofs

  function proveRange(tag, eh, alias, label, alpha, beta, y, values, t, r, rng) {
    var n = values.length;
    var cs = [];
    var zs = [];
    var commitments = [];
    var w = ZERO;
    for (var j = 0; j < n; j++) {
      if (j === t) {
        w = rng();
        cs.push(ZERO);
        zs.push(ZERO);
        commitments.push(baseMul(w), mul(w, y));
      } else {
        var c = rng();
        var z = rng();
        cs.push(c);
        zs.push(z);
        var bj = values[j] === 0 ? beta : sub(beta, smallMultiple(values[j]));
        commitments.push(sub(baseMul(z), mul(c, alpha)), sub(mul(z, y), mul(c, bj)));
      }
    }
    var ch = hashToScalar(tag, [eh, alias, label, alpha, beta].concat(commitments));
    var others = cs.filter(function (_, i) {
      return i !== t;
    });
    cs[t] = sSub(ch, sSum(others));
    zs[t] = sAdd(w, sMul(cs[t], r));
    return cs.map(function (c, i) {
      return { challenge: hex(c), response: hex(zs[i]) };
    });
  }

  function sameKeys(obj, keys) {
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
      return false;
    }
    var got = Object.keys(obj).sort();
    return got.length === keys.length && got.every(function (k, i) {
      return k === keys[i];
    });
  }

  /** Returns [alphaChecked, betaChecked]; throws InvalidProof / InvalidPoint("alpha"|"beta"). */
  function verifyRange(tag, eh, alias, label, alpha, beta, y, values, proof) {
    if (!Array.isArray(proof) || proof.length !== values.length) {
      throw CryptoError("InvalidProof", "proof must be a list of " + values.length + " entries");
    }
    var cs = [];
    var zs = [];
    proof.forEach(function (e, j) {
      if (!sameKeys(e, ["challenge", "response"])) {
        throw CryptoError("InvalidProof", "proof entry must have exactly challenge, response", "[" + j + "]");
      }
      try {
        cs.push(parseScalar(e.challenge));
      } catch (err) {
        throw at(err, "[" + j + "].challenge");
      }
      try {
        zs.push(parseScalar(e.response));
      } catch (err) {
        throw at(err, "[" + j + "].response");
      }
    });
    var commitments = [];
    var aOk = false;
    var bOk = false;
    for (var j = 0; j < values.length; j++) {
      var c = cs[j];
      var z = zs[j];
      var ca;
      var cb;
      try {
        ca = mul(c, alpha);
      } catch (err) {
        throw CryptoError("InvalidPoint", "not a valid group element", "alpha");
      }
      aOk = aOk || !isZero(c);
      try {
        if (values[j] === 0) {
          cb = mul(c, beta);
          bOk = bOk || !isZero(c);
        } else {
          cb = mul(c, sub(beta, smallMultiple(values[j])));
        }
      } catch (err) {
        throw CryptoError("InvalidPoint", "not a valid group element", "beta");
      }
      commitments.push(sub(baseMul(z), ca), sub(mul(z, y), cb));
    }
    var expected = hashToScalar(tag, [eh, alias, label, alpha, beta].concat(commitments));
    if (!eq(sSum(cs), expected)) {
      throw CryptoError("InvalidProof", "challenges do not sum to the hash");
    }
    return [aOk, bOk];
  }

  // ------------------------------------------------------------------ ballots

  function scalarStream(list) {
    var i = 0;
    return function () {
      if (i >= list.length) {
        throw new Error("fixed randomness exhausted");
      }
      return parseScalar(list[i++]);
    };
  }

  /**
   * Encrypt a selection (plaintext[k] is 0 or 1). opts.randomness: list of hex scalars to use
   * instead of fresh randomness (test vectors only).
   */
  function encryptBallot(election, alias, plaintext, opts) {
    var ctx = context(election);
    var rng = opts && opts.randomness ? scalarStream(opts.randomness) : randomScalar;
    if (!Array.isArray(plaintext) || plaintext.length !== ctx.n || !plaintext.every(function (m) {
      return m === 0 || m === 1;
    })) {
      throw CryptoError("InvalidBallot", "plaintext must hold 0 or 1 for each choice");
    }
    var total = plaintext.reduce(function (a, b) {
      return a + b;
    }, 0);
    if (total < ctx.min || total > ctx.max) {
      throw CryptoError("InvalidBallot", "number of selected choices outside [min_choices, max_choices]");
    }
    var y = ctx.publicKey;
    var rs = plaintext.map(function () {
      return rng();
    });
    var alphas = rs.map(baseMul);
    var betas = rs.map(function (r, k) {
      return add(mul(r, y), smallMultiple(plaintext[k]));
    });
    var choices = rs.map(function (r, k) {
      return {
        alpha: hex(alphas[k]),
        beta: hex(betas[k]),
        proof: proveRange(CHOICE_TAG, ctx.electionHash, alias, String(k), alphas[k], betas[k], y,
          [0, 1], plaintext[k], r, rng),
      };
    });
    var overall = proveRange(OVERALL_TAG, ctx.electionHash, alias, "overall", pSum(alphas),
      pSum(betas), y, ctx.overall, ctx.overall.indexOf(total), sSum(rs), rng);
    return {
      ballot: {
        election_hash: ctx.electionHashHex,
        alias: alias,
        choices: choices,
        overall_proof: overall,
      },
      randomness: rs.map(hex),
      plaintext: plaintext.slice(),
      tracker: hex(computeTracker(ctx.electionHash, alias, alphas, betas)),
    };
  }

  /** The Benaloh-revealed ballot: the ballot plus randomness and plaintext. Never cast it. */
  function auditBallot(encrypted) {
    var b = encrypted.ballot;
    return {
      election_hash: b.election_hash,
      alias: b.alias,
      choices: b.choices,
      overall_proof: b.overall_proof,
      randomness: encrypted.randomness.slice(),
      plaintext: encrypted.plaintext.slice(),
    };
  }

  function checkBallot(ctx, alias, ballot, keys) {
    if (!sameKeys(ballot, keys)) {
      throw CryptoError("InvalidBallot", "ballot must have exactly " + keys.join(", "));
    }
    if (ballot.election_hash !== ctx.electionHashHex) {
      throw CryptoError("InvalidBallot", "ballot is for another election", "election_hash");
    }
    if (typeof alias !== "string" || ballot.alias !== alias) {
      throw CryptoError("InvalidBallot", "ballot alias does not match", "alias");
    }
    if (!Array.isArray(ballot.choices) || ballot.choices.length !== ctx.n) {
      throw CryptoError("InvalidBallot", "ballot must have " + ctx.n + " choices", "choices");
    }
    var alphas = [];
    var betas = [];
    ballot.choices.forEach(function (ch, k) {
      var where = "choices[" + k + "]";
      if (!sameKeys(ch, ["alpha", "beta", "proof"])) {
        throw CryptoError("InvalidBallot", "choice must have exactly alpha, beta, proof", where);
      }
      var a;
      var b;
      try {
        a = parsePointRaw(ch.alpha);
      } catch (err) {
        throw at(err, where + ".alpha");
      }
      try {
        b = parsePointRaw(ch.beta);
      } catch (err) {
        throw at(err, where + ".beta");
      }
      var ok;
      try {
        ok = verifyRange(CHOICE_TAG, ctx.electionHash, alias, String(k), a, b, ctx.publicKey, [0, 1], ch.proof);
      } catch (err) {
        throw at(err, err.kind === "InvalidPoint" ? where : where + ".proof");
      }
      if (!ok[0] && !isValidPoint(a)) {
        throw CryptoError("InvalidPoint", "not a valid group element", where + ".alpha");
      }
      if (!ok[1] && !isValidPoint(b)) {
        throw CryptoError("InvalidPoint", "not a valid group element", where + ".beta");
      }
      for (var j = 0; j < alphas.length; j++) {
        if (eq(alphas[j], a)) {
          // Equal alphas mean reused randomness: beta_j - beta_k reveals m_j - m_k.
          throw CryptoError("InvalidBallot", "alpha equals the alpha of choices[" + j +
            "] (reused randomness)", where + ".alpha");
        }
      }
      alphas.push(a);
      betas.push(b);
    });
    try {
      verifyRange(OVERALL_TAG, ctx.electionHash, alias, "overall", pSum(alphas), pSum(betas),
        ctx.publicKey, ctx.overall, ballot.overall_proof);
    } catch (err) {
      throw at(err, "overall_proof");
    }
    return { alphas: alphas, betas: betas, tracker: computeTracker(ctx.electionHash, alias, alphas, betas) };
  }

  /** Check a cast ballot (section 5); returns its tracker (hex) or throws with .location. */
  function verifyBallot(election, alias, ballot) {
    return hex(checkBallot(context(election), alias, ballot, BALLOT_KEYS).tracker);
  }

  /** Check a Benaloh-revealed ballot; returns {tracker, plaintext}. */
  function verifyAudited(election, revealed) {
    var ctx = context(election);
    var checked = checkBallot(ctx, revealed && revealed.alias, revealed, AUDIT_KEYS);
    var rs = revealed.randomness;
    var ms = revealed.plaintext;
    if (!Array.isArray(rs) || rs.length !== ctx.n) {
      throw CryptoError("InvalidEncoding", "randomness must list " + ctx.n + " scalars", "randomness");
    }
    if (!Array.isArray(ms) || ms.length !== ctx.n) {
      throw CryptoError("InvalidEncoding", "plaintext must list " + ctx.n + " values", "plaintext");
    }
    for (var k = 0; k < ctx.n; k++) {
      var r;
      try {
        r = parseScalar(rs[k]);
      } catch (err) {
        throw at(err, "randomness[" + k + "]");
      }
      if (ms[k] !== 0 && ms[k] !== 1) {
        throw CryptoError("InvalidEncoding", "plaintext value must be 0 or 1", "plaintext[" + k + "]");
      }
      if (!eq(baseMul(r), checked.alphas[k])) {
        throw CryptoError("InvalidBallot", "alpha != r·B", "randomness[" + k + "]");
      }
      if (!eq(add(mul(r, ctx.publicKey), smallMultiple(ms[k])), checked.betas[k])) {
        throw CryptoError("InvalidBallot", "beta != r·Y + m·B", "plaintext[" + k + "]");
      }
    }
    return { tracker: hex(checked.tracker), plaintext: ms.slice() };
  }

  /**
   * Cast as intended, on a second device: check a ballot from the board (every check of
   * section 5), then read it with the voter's per-choice randomness: alpha_k == r_k·B and the
   * m_k in {0, 1} with beta_k == r_k·Y + m_k·B. Returns {tracker, plaintext}; throws with
   * .location (randomness[k]) when the randomness does not open the ballot.
   */
  function openCast(election, alias, ballot, randomness) {
    var ctx = context(election);
    var checked = checkBallot(ctx, alias, ballot, BALLOT_KEYS);
    if (!Array.isArray(randomness) || randomness.length !== ctx.n) {
      throw CryptoError("InvalidEncoding", "randomness must list " + ctx.n + " scalars", "randomness");
    }
    var plaintext = [];
    for (var k = 0; k < ctx.n; k++) {
      var where = "randomness[" + k + "]";
      var r;
      try {
        r = parseScalar(randomness[k]);
      } catch (err) {
        throw at(err, where);
      }
      if (!eq(baseMul(r), checked.alphas[k])) {
        throw CryptoError("InvalidBallot", "alpha != r·B", where);
      }
      var masked = mul(r, ctx.publicKey);
      if (eq(masked, checked.betas[k])) {
        plaintext.push(0);
      } else if (eq(add(masked, smallMultiple(1)), checked.betas[k])) {
        plaintext.push(1);
      } else {
        throw CryptoError("InvalidBallot", "beta is neither r·Y nor r·Y + B", where);
      }
    }
    return { tracker: hex(checked.tracker), plaintext: plaintext };
  }

  /** canonical(obj) of spec section 2: sorted keys, no whitespace, UTF-8, integers only. */
  function canonical(value) {
    if (Array.isArray(value)) {
      return "[" + value.map(canonical).join(",") + "]";
    }
    if (value !== null && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ":" + canonical(value[k]);
      }).join(",") + "}";
    }
    return JSON.stringify(value);
  }

  /** election_hash = SHA-256(canonical(manifest)), hex. */
  function electionHash(manifest) {
    return hex(sodium.crypto_hash_sha256(utf8.encode(canonical(manifest))));
  }

  /** Tracker (hex) of a ballot, without checking it. */
  function tracker(electionHashHex, alias, ballot) {
    var alphas = ballot.choices.map(function (c) {
      return unhex(c.alpha);
    });
    var betas = ballot.choices.map(function (c) {
      return unhex(c.beta);
    });
    return hex(computeTracker(unhex(electionHashHex), alias, alphas, betas));
  }

  var api = {
    ready: null,
    encryptBallot: encryptBallot,
    auditBallot: auditBallot,
    verifyBallot: verifyBallot,
    verifyAudited: verifyAudited,
    openCast: openCast,
    electionHash: electionHash,
    tracker: tracker,
    hashToScalar: function (tag, items) {
      return hex(hashToScalar(tag, items));
    },
  };
  api.ready = sodium.ready.then(function () {
    BASE = sodium.crypto_scalarmult_ed25519_base_noclamp(ONE);
    small = [IDENTITY];
    return api;
  });
  root.RefBallot = api;
})(typeof window !== "undefined" ? window : globalThis);
