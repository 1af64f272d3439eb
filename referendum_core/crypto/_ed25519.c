/*
 * Variable-time multi-scalar multiplication on Ed25519, for checking ballot proofs.
 *
 * libsodium's public API multiplies one point at a time and re-checks the point's subgroup
 * membership on every call (about half of each call's cost); it has no multi-scalar
 * multiplication. Its own group arithmetic does (Straus' method with width-5 sliding windows,
 * `ge25519_double_scalarmult_vartime`, used for signature checks) but is not exported. This
 * module compiles libsodium's ed25519_ref10.c (vendored unchanged under _vendor/libsodium,
 * ISC licence) and adds one function over it:
 *
 *     msm(points, rows) -> list of 32-byte encodings
 *
 * `points` is a sequence of n compressed points; `rows` a sequence of (b, (s_1, ..., s_n)) with
 * 32-byte little-endian scalars. For each row the result is the encoding of
 * b·B + s_1·P_1 + ... + s_n·P_n (B the standard base point). Every point is decoded once and its
 * table of odd multiples built once for all rows. A zero scalar costs nothing.
 *
 * Only public data may pass through here (the time taken depends on the scalars): proof
 * challenges and responses, ciphertexts and keys, never a secret or a ballot's randomness.
 * Points must be canonical and on the curve (ValueError otherwise); membership of the main
 * subgroup is the caller's check, as the election record spec requires it of every received
 * point anyway (crypto_core_ed25519_is_valid_point). Scalars must be below 2^255.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if !defined(__SIZEOF_INT128__)
# error "this module needs 128-bit integer arithmetic (64-bit GCC or Clang)"
#endif
#define HAVE_TI_MODE 1
#define CONFIGURED 1
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define NATIVE_LITTLE_ENDIAN 1
#endif

#include "ed25519_ref10.c"

#define MSM_MAX_POINTS 16

/* The odd multiples P, 3P, ..., 15P of a point, as libsodium builds them for signatures. */
static void
odd_multiples(ge25519_cached table[8], const ge25519_p3 *p)
{
    ge25519_p1p1 t;
    ge25519_p3   u;
    ge25519_p3   p2;
    int          i;

    ge25519_p3_to_cached(&table[0], p);
    ge25519_p3_dbl(&t, p);
    ge25519_p1p1_to_p3(&p2, &t);
    for (i = 1; i < 8; i++) {
        ge25519_add(&t, &p2, &table[i - 1]);
        ge25519_p1p1_to_p3(&u, &t);
        ge25519_p3_to_cached(&table[i], &u);
    }
}

/* out = b·B + sum(s_i·P_i); the loop of ge25519_double_scalarmult_vartime, for n points. */
static void
multi_scalarmult_vartime(unsigned char out[32], const unsigned char *b,
                         const unsigned char *const *s, const ge25519_cached (*tables)[8],
                         int n)
{
    static const ge25519_precomp Bi[8] = {
#include "fe_51/base2.h"
    };
    signed char  bslide[256];
    signed char  slides[MSM_MAX_POINTS][256];
    int          used[MSM_MAX_POINTS];
    int          n_used = 0;
    int          use_b = !sodium_is_zero(b, 32);
    ge25519_p1p1 t;
    ge25519_p3   u;
    ge25519_p2   r;
    int          i, j, k, d;

    for (k = 0; k < n; k++) {
        if (!sodium_is_zero(s[k], 32)) {
            slide_vartime(slides[n_used], s[k]);
            used[n_used++] = k;
        }
    }
    if (use_b) {
        slide_vartime(bslide, b);
    }
    ge25519_p2_0(&r);

    for (i = 255; i >= 0; --i) {
        if (use_b && bslide[i]) {
            break;
        }
        for (j = 0; j < n_used; j++) {
            if (slides[j][i]) {
                break;
            }
        }
        if (j < n_used) {
            break;
        }
    }
    for (; i >= 0; --i) {
        ge25519_p2_dbl(&t, &r);
        for (j = 0; j < n_used; j++) {
            d = slides[j][i];
            if (d > 0) {
                ge25519_p1p1_to_p3(&u, &t);
                ge25519_add(&t, &u, &tables[used[j]][d / 2]);
            } else if (d < 0) {
                ge25519_p1p1_to_p3(&u, &t);
                ge25519_sub(&t, &u, &tables[used[j]][(-d) / 2]);
            }
        }
        if (use_b) {
            d = bslide[i];
            if (d > 0) {
                ge25519_p1p1_to_p3(&u, &t);
                ge25519_madd(&t, &u, &Bi[d / 2]);
            } else if (d < 0) {
                ge25519_p1p1_to_p3(&u, &t);
                ge25519_msub(&t, &u, &Bi[(-d) / 2]);
            }
        }
        ge25519_p1p1_to_p2(&r, &t);
    }
    ge25519_tobytes(out, &r);
}

/* A 32-byte bytes object's buffer, or NULL with an exception set. */
static const unsigned char *
bytes32(PyObject *o, const char *what)
{
    if (!PyBytes_Check(o) || PyBytes_GET_SIZE(o) != 32) {
        PyErr_Format(PyExc_TypeError, "%s must be 32 bytes", what);
        return NULL;
    }
    return (const unsigned char *) PyBytes_AS_STRING(o);
}

static const unsigned char *
scalar32(PyObject *o)
{
    const unsigned char *s = bytes32(o, "a scalar");

    if (s != NULL && s[31] > 127) {
        PyErr_SetString(PyExc_ValueError, "a scalar must be below 2^255");
        return NULL;
    }
    return s;
}

static PyObject *
msm(PyObject *self, PyObject *args)
{
    PyObject            *points_arg, *rows_arg;
    PyObject            *points = NULL, *rows = NULL, *result = NULL;
    ge25519_cached       tables[MSM_MAX_POINTS][8];
    ge25519_p3           p;
    const unsigned char *s[MSM_MAX_POINTS];
    const unsigned char *b;
    unsigned char        out[32];
    Py_ssize_t           n, n_rows, i, k;

    (void) self;
    if (!PyArg_ParseTuple(args, "OO:msm", &points_arg, &rows_arg)) {
        return NULL;
    }
    points = PySequence_Fast(points_arg, "points must be a sequence");
    if (points == NULL) {
        goto done;
    }
    n = PySequence_Fast_GET_SIZE(points);
    if (n > MSM_MAX_POINTS) {
        PyErr_Format(PyExc_ValueError, "at most %d points", MSM_MAX_POINTS);
        goto done;
    }
    for (k = 0; k < n; k++) {
        const unsigned char *enc = bytes32(PySequence_Fast_GET_ITEM(points, k), "a point");

        if (enc == NULL) {
            goto done;
        }
        if (!ge25519_is_canonical(enc) || ge25519_frombytes(&p, enc) != 0) {
            PyErr_Format(PyExc_ValueError, "point %zd is not a canonical curve point", k);
            goto done;
        }
        odd_multiples(tables[k], &p);
    }
    rows = PySequence_Fast(rows_arg, "rows must be a sequence");
    if (rows == NULL) {
        goto done;
    }
    n_rows = PySequence_Fast_GET_SIZE(rows);
    result = PyList_New(n_rows);
    if (result == NULL) {
        goto done;
    }
    for (i = 0; i < n_rows; i++) {
        PyObject *row = PySequence_Fast_GET_ITEM(rows, i);
        PyObject *scalars, *encoded;

        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 2) {
            PyErr_SetString(PyExc_TypeError, "a row must be a (scalar, scalars) tuple");
            goto fail;
        }
        b = scalar32(PyTuple_GET_ITEM(row, 0));
        if (b == NULL) {
            goto fail;
        }
        scalars = PySequence_Fast(PyTuple_GET_ITEM(row, 1), "a row's scalars must be a sequence");
        if (scalars == NULL) {
            goto fail;
        }
        if (PySequence_Fast_GET_SIZE(scalars) != n) {
            Py_DECREF(scalars);
            PyErr_SetString(PyExc_ValueError, "a row needs one scalar per point");
            goto fail;
        }
        for (k = 0; k < n; k++) {
            s[k] = scalar32(PySequence_Fast_GET_ITEM(scalars, k));
            if (s[k] == NULL) {
                Py_DECREF(scalars);
                goto fail;
            }
        }
        multi_scalarmult_vartime(out, b, s, (const ge25519_cached(*)[8]) tables, (int) n);
        Py_DECREF(scalars);
        encoded = PyBytes_FromStringAndSize((const char *) out, 32);
        if (encoded == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(result, i, encoded);
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    Py_XDECREF(points);
    Py_XDECREF(rows);
    return result;
}

static PyMethodDef methods[] = {
    { "msm", msm, METH_VARARGS,
      "msm(points, rows) -> list of encodings of b*B + sum(s_i*P_i), one per (b, (s_1..s_n)) row.\n"
      "Variable time: public data only. Points must be canonical curve points." },
    { NULL, NULL, 0, NULL }
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ed25519", "Ed25519 multi-scalar multiplication (libsodium ref10).",
    -1, methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit__ed25519(void)
{
    return PyModule_Create(&module);
}
