"""Build of the one compiled part: Ed25519 multi-scalar multiplication for proof checks.

Everything else about the package is declared in setup.cfg. The extension compiles libsodium's
own group arithmetic (vendored unchanged in referendum_core/crypto/_vendor/libsodium, with its
licence) and needs a C compiler and the Python headers, as any source install of PyNaCl would.
"""

from setuptools import Extension, setup

VENDOR = "referendum_core/crypto/_vendor"

setup(
    ext_modules=[
        Extension(
            "referendum_core.crypto._ed25519",
            sources=["referendum_core/crypto/_ed25519.c"],
            include_dirs=[f"{VENDOR}/libsodium", f"{VENDOR}/shim"],
            depends=[
                f"{VENDOR}/libsodium/ed25519_ref10.c",
                f"{VENDOR}/libsodium/fe_51/base.h",
                f"{VENDOR}/libsodium/fe_51/base2.h",
                f"{VENDOR}/libsodium/fe_51/constants.h",
                f"{VENDOR}/libsodium/fe_51/fe.h",
                f"{VENDOR}/libsodium/private/common.h",
                f"{VENDOR}/libsodium/private/ed25519_ref10.h",
                f"{VENDOR}/libsodium/private/ed25519_ref10_fe_51.h",
                f"{VENDOR}/shim/utils.h",
                f"{VENDOR}/shim/crypto_verify_32.h",
            ],
            extra_compile_args=["-O2", "-fvisibility=hidden", "-Wno-unused-function"],
        )
    ]
)
